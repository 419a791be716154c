"""Topics are created by the project with the partitions it means, never auto-created."""

import logging
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from tienda.contracts.topics import TOPICS, Topic

log = logging.getLogger(__name__)


async def ensure_topics(bootstrap_servers: str, topics: Iterable[Topic] = TOPICS) -> list[str]:
    """Create the registered topics that are missing; the names created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="tienda-provisioning")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [topic for topic in topics if topic.name not in existing]
        if missing:
            await _create(admin, missing)
        return [topic.name for topic in missing]
    finally:
        await admin.close()


async def _create(admin: AIOKafkaAdminClient, topics: list[Topic]) -> None:
    new = [
        NewTopic(topic.name, num_partitions=topic.partitions, replication_factor=1, topic_configs=topic.broker_config())
        for topic in topics
    ]
    try:
        await admin.create_topics(new)
    except TopicAlreadyExistsError:
        log.info("topics created concurrently by another process")
    log.info("created topics %s", ", ".join(topic.name for topic in topics))
