"""Topics are created by the project with the partitions it means, never auto-created; an
existing topic that differs from the registry is reported, not silently used.

A topic is created with the partitions and cleanup policy of ``contracts/topics.py``, the
replication factor of the settings (-1: the cluster's ``default.replication.factor``) and,
when set, their ``min.insync.replicas``. An existing topic is never changed: fewer
partitions, a lower replication factor, another cleanup policy or a lower
``min.insync.replicas`` than wanted is a finding an operator resolves.
"""

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import for_code

from tienda.contracts.topics import TOPICS, Topic
from tienda.messaging.connection import Kafka, connection_of

log = logging.getLogger(__name__)

CLUSTER_DEFAULT = -1
_TOPIC_ALREADY_EXISTS = 36


class ProvisioningError(RuntimeError):
    """Topics Tienda needs are missing and could not be created; the message says what to do."""


@dataclass(frozen=True)
class TopicLayout:
    """How Tienda wants the topics it creates laid out on this cluster."""

    replication_factor: int = CLUSTER_DEFAULT
    min_insync_replicas: int | None = None


@dataclass(frozen=True)
class TopicState:
    """A topic as the cluster has it."""

    name: str
    partitions: int
    replication_factor: int
    cleanup_policy: str | None
    min_insync_replicas: int | None


@dataclass
class TopicReport:
    """What the cluster has against what the registry declares."""

    states: dict[str, TopicState] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    wanted_replication_factor: int | None = None

    @property
    def ok(self) -> bool:
        return not self.missing and not self.findings


async def check_topics(
    kafka: Kafka, topics: Iterable[Topic] = TOPICS, layout: TopicLayout = TopicLayout()
) -> TopicReport:
    """Compare the registry's topics with the cluster's, creating nothing."""
    admin = _admin(kafka)
    await admin.start()
    try:
        return await _inspect(admin, list(topics), layout)
    finally:
        await admin.close()


async def ensure_topics(
    kafka: Kafka, topics: Iterable[Topic] = TOPICS, layout: TopicLayout = TopicLayout()
) -> list[str]:
    """Create the registered topics that are missing; the names created. Differences of the
    existing ones are logged as warnings. ProvisioningError when a missing topic cannot be created."""
    return (await provision(kafka, topics, layout)).created


@dataclass
class ProvisionResult:
    """The topics created, and the report of the cluster as it was found."""

    created: list[str]
    report: TopicReport


async def provision(
    kafka: Kafka, topics: Iterable[Topic] = TOPICS, layout: TopicLayout = TopicLayout()
) -> ProvisionResult:
    """Create what is missing, report what differs (each finding logged as a warning)."""
    wanted = list(topics)
    admin = _admin(kafka)
    await admin.start()
    try:
        report = await _inspect(admin, wanted, layout)
        for finding in report.findings:
            log.warning("topic differs from the registry: %s", finding)
        missing = [topic for topic in wanted if topic.name in report.missing]
        if missing:
            replication = report.wanted_replication_factor
            if replication is None:
                raise ProvisioningError(
                    f"topics missing: {', '.join(report.missing)}; they would get the cluster's default replication "
                    "factor, which this principal may not read: set KAFKA_REPLICATION_FACTOR, or have an "
                    "administrator run `python -m tienda.ops topics apply`"
                )
            await _create(admin, missing, replication, layout.min_insync_replicas, connection_of(kafka).principal)
        return ProvisionResult([topic.name for topic in missing], report)
    finally:
        await admin.close()


def _admin(kafka: Kafka) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(client_id="tienda-provisioning", **connection_of(kafka).client_options())


async def _inspect(admin: AIOKafkaAdminClient, topics: Sequence[Topic], layout: TopicLayout) -> TopicReport:
    # Metadata of every topic first: asking for a missing topic by name may auto-create it on a
    # cluster that allows that. Only topics this principal may describe are listed.
    existing = set(await admin.list_topics())
    present = [topic for topic in topics if topic.name in existing]
    report = TopicReport(missing=[topic.name for topic in topics if topic.name not in existing])
    report.wanted_replication_factor = (
        layout.replication_factor if layout.replication_factor > 0 else await _readable_default(admin)
    )
    if not present:
        return report
    metadata = {entry["topic"]: entry for entry in await admin.describe_topics([t.name for t in present])}
    configs = await _topic_configs(admin, [topic.name for topic in present])
    for topic in present:
        state = _state(topic.name, metadata[topic.name], configs.get(topic.name))
        report.states[topic.name] = state
        report.findings.extend(_differences(topic, state, report.wanted_replication_factor, layout))
    return report


def _state(name: str, metadata: dict[str, Any], config: dict[str, str] | None) -> TopicState:
    partitions = metadata["partitions"]
    min_isr = (config or {}).get("min.insync.replicas")
    return TopicState(
        name=name,
        partitions=len(partitions),
        replication_factor=min((len(p["replicas"]) for p in partitions), default=0),
        cleanup_policy=(config or {}).get("cleanup.policy"),
        min_insync_replicas=int(min_isr) if min_isr else None,
    )


def _differences(topic: Topic, state: TopicState, replication: int | None, layout: TopicLayout) -> list[str]:
    found = []
    if state.partitions < topic.partitions:
        found.append(
            f"{topic.name} has {state.partitions} partitions, the registry declares {topic.partitions} "
            "(fewer partitions: less parallelism; adding some moves accounts to other partitions, so plan it)"
        )
    if replication is not None and state.replication_factor < replication:
        found.append(f"{topic.name} has replication factor {state.replication_factor}, wanted {replication}")
    wanted_policy = topic.broker_config()["cleanup.policy"]
    if state.cleanup_policy is not None and state.cleanup_policy != wanted_policy:
        found.append(f"{topic.name} has cleanup.policy={state.cleanup_policy}, the registry declares {wanted_policy}")
    if state.min_insync_replicas is not None and state.min_insync_replicas > state.replication_factor:
        found.append(
            f"{topic.name} has min.insync.replicas={state.min_insync_replicas} over {state.replication_factor} "
            "replicas: no write with acks=all can succeed"
        )
    wanted_isr = layout.min_insync_replicas
    if wanted_isr is not None and state.min_insync_replicas is not None and state.min_insync_replicas < wanted_isr:
        found.append(f"{topic.name} has min.insync.replicas={state.min_insync_replicas}, wanted {wanted_isr}")
    return found


async def _topic_configs(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, dict[str, str]]:
    """cleanup.policy and min.insync.replicas of each topic this principal may describe the configs of."""
    resources = [
        ConfigResource(ConfigResourceType.TOPIC, name, {"cleanup.policy": None, "min.insync.replicas": None})
        for name in names
    ]
    configs: dict[str, dict[str, str]] = {}
    for response in await admin.describe_configs(resources):
        for error_code, _message, _type, name, entries in response.resources:
            if error_code == 0:
                configs[name] = {entry[0]: entry[1] for entry in entries}
            else:
                log.info("configuration of %s not readable: %s", name, for_code(error_code).__name__)
    return configs


async def _readable_default(admin: AIOKafkaAdminClient) -> int | None:
    """The cluster's default.replication.factor, or None when this principal may not read it."""
    cluster = await admin.describe_cluster()
    brokers = cluster.get("brokers") or []
    if not brokers:
        return None
    resource = ConfigResource(
        ConfigResourceType.BROKER, str(brokers[0]["node_id"]), {"default.replication.factor": None}
    )
    for response in await admin.describe_configs([resource]):
        for error_code, _message, _type, _name, entries in response.resources:
            values = {entry[0]: entry[1] for entry in entries}
            if error_code == 0 and values.get("default.replication.factor"):
                return int(values["default.replication.factor"])
    return None


async def _create(
    admin: AIOKafkaAdminClient, topics: list[Topic], replication: int, min_isr: int | None, principal: str | None
) -> None:
    extra = {"min.insync.replicas": str(min_isr)} if min_isr is not None else {}
    new = [
        NewTopic(
            topic.name,
            num_partitions=topic.partitions,
            replication_factor=replication,
            topic_configs=topic.broker_config() | extra,
        )
        for topic in topics
    ]
    response = await admin.create_topics(new)
    refused = []
    for entry in response.topic_errors:
        name, code, message = entry[0], entry[1], entry[2] if len(entry) > 2 else None
        if code == _TOPIC_ALREADY_EXISTS:
            log.info("topic %s created concurrently by another process", name)
        elif code != 0:
            refused.append(f"{name}: {for_code(code).__name__}{f' ({message})' if message else ''}")
    if refused:
        who = f"the principal {principal}" if principal else "this client"
        raise ProvisioningError(
            f"could not create {'; '.join(refused)}. If {who} may not create topics, an administrator runs "
            "`python -m tienda.ops topics apply` (and `acls apply`) first"
        )
    log.info(
        "created topics %s (replication factor %d%s)",
        ", ".join(topic.name for topic in topics),
        replication,
        f", min.insync.replicas {min_isr}" if min_isr else "",
    )
