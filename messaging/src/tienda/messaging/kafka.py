"""The FastStream side of the core: the broker, the subscriber, explicit commits."""

import logging
from collections.abc import Callable, Sequence
from typing import Any

from aiokafka import TopicPartition
from aiokafka.errors import KafkaError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from tienda.messaging.processor import MessageProcessor
from tienda.messaging.records import Record

log = logging.getLogger(__name__)


def create_broker(bootstrap_servers: str, service: str) -> KafkaBroker:
    """A broker whose producer is idempotent with acks=all, and that never creates topics."""
    return KafkaBroker(
        bootstrap_servers,
        client_id=f"tienda-{service}",
        enable_idempotence=True,
        acks="all",
        allow_auto_create_topics=False,
        logger=logging.getLogger(f"tienda.{service}.kafka"),
        log_level=logging.DEBUG,
    )


def raw_bytes(message: Any) -> Any:
    """Hand the processor the bytes as they came: it decodes and judges them itself."""
    return message.body


PositionObserver = Callable[[str, int, int, int | None], None]


def subscribe(
    broker: KafkaBroker,
    processor: MessageProcessor,
    topics: Sequence[str],
    group_id: str,
    on_position: PositionObserver = lambda topic, partition, offset, highwater: None,
) -> None:
    """Consume ``topics`` in ``group_id``. The offset of a record is committed only after
    its transaction committed or its dead letter was acknowledged (AckPolicy.MANUAL)."""

    @broker.subscriber(
        *topics,
        group_id=group_id,
        ack_policy=AckPolicy.MANUAL,
        auto_offset_reset="earliest",
        decoder=raw_bytes,
        max_poll_records=500,
    )
    async def consume(message: KafkaMessage) -> None:
        record = Record.of(message.raw_message)
        await processor.process(record)
        await commit(message.consumer, record)
        partition = TopicPartition(record.topic, record.partition)
        highwater = getattr(message.consumer, "highwater", None)
        on_position(record.topic, record.partition, record.offset, highwater(partition) if highwater else None)


async def commit(consumer: Any, record: Record) -> None:
    """Commit past this record only; a rebalance that took the partition is harmless (inbox)."""
    try:
        await consumer.commit({TopicPartition(record.topic, record.partition): record.offset + 1})
    except KafkaError as error:
        log.warning("offset of %s not committed (%s); the next owner will dedupe it", record.position, error)
