"""The FastStream side of the core: the broker, the subscriber, explicit commits."""

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import TopicPartition
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from tienda.messaging.connection import Kafka, connection_of
from tienda.messaging.offsets import OffsetCommitter
from tienda.messaging.processor import MessageProcessor
from tienda.messaging.records import Record


def create_broker(kafka: Kafka, service: str) -> KafkaBroker:
    """The worker's consumer (and the admin client its readiness pings), never creating topics; it
    connects with the security of ``kafka`` (TLS, SASL), which the worker's producer
    (``publisher.KafkaPublisher``: the outbox relay's, outcomes, dead letters) shares. Nothing is
    published through the broker (FastStream connects a producer of its own, which stays idle:
    ``consumer_only`` would also leave out the admin client that ``ping`` needs).

    No dependency injection (``apply_types=False``): the one subscriber takes the message
    whole, and FastStream would otherwise resolve its ``Context`` argument on a worker
    thread for every message (two thread switches each)."""
    connection = connection_of(kafka)
    return KafkaBroker(
        connection.servers,
        security=connection.security(),
        client_id=f"tienda-{service}",
        allow_auto_create_topics=False,
        logger=logging.getLogger(f"tienda.{service}.kafka"),
        log_level=logging.DEBUG,
        apply_types=False,
    )


async def whole_message(message: KafkaMessage) -> KafkaMessage:
    """Hand the subscriber the message as it came: the processor decodes and judges the bytes
    itself. A coroutine, because FastStream runs a plain function on a worker thread."""
    return message


@dataclass(frozen=True)
class Fetch:
    """How long the broker may hold a fetch to gather records (Kafka's fetch.min.bytes and
    fetch.max.wait.ms): the consumer's batches against the latency it adds at light load."""

    min_bytes: int = 1
    max_wait_ms: int = 500


PositionObserver = Callable[[str, int, int, int | None], None]


async def _go_on() -> None:
    """No reason to wait before a batch."""


def subscribe(
    broker: KafkaBroker,
    processor: MessageProcessor,
    topics: Sequence[str],
    group_id: str,
    on_position: PositionObserver = lambda topic, partition, offset, highwater: None,
    batch_size: int = 1,
    before_batch: Callable[[], Awaitable[None]] = _go_on,
    commit_interval: float = 0.0,
    fetch: Fetch = Fetch(),
) -> OffsetCommitter:
    """Consume ``topics`` in ``group_id``. The offset of a record is committed only after
    its transaction committed or its dead letter was acknowledged (AckPolicy.MANUAL), at most
    every ``commit_interval`` seconds (see ``offsets``). With ``batch_size`` > 1, up to that
    many records share one transaction; ``before_batch`` is awaited before each (the relay's
    back-pressure). Close the returned committer before stopping the broker."""
    committer = OffsetCommitter(commit_interval)

    async def handled(consumer: Any, records: Sequence[Record]) -> None:
        last: dict[TopicPartition, int] = {}
        for record in records:
            partition = TopicPartition(record.topic, record.partition)
            last[partition] = max(last.get(partition, -1), record.offset)
        await committer.handled(consumer, last)
        highwater = getattr(consumer, "highwater", None)
        assigned = consumer.assignment() if highwater else None
        for partition, offset in last.items():
            if assigned is not None and partition not in assigned:
                continue  # revoked by a rebalance meanwhile (aiokafka's highwater would raise): the new owner reports
            on_position(partition.topic, partition.partition, offset, highwater(partition) if highwater else None)

    if batch_size <= 1:

        @broker.subscriber(
            *topics,
            group_id=group_id,
            ack_policy=AckPolicy.MANUAL,
            auto_offset_reset="earliest",
            decoder=whole_message,
            max_poll_records=500,
            fetch_min_bytes=fetch.min_bytes,
            fetch_max_wait_ms=fetch.max_wait_ms,
            listener=committer,
        )
        async def consume(message: KafkaMessage) -> None:
            record = Record.of(message.raw_message)
            await before_batch()
            await processor.process(record)
            await handled(message.consumer, [record])

        return committer

    @broker.subscriber(
        *topics,
        batch=True,
        max_records=batch_size,
        batch_timeout_ms=20,
        group_id=group_id,
        ack_policy=AckPolicy.MANUAL,
        auto_offset_reset="earliest",
        decoder=whole_message,
        max_poll_records=max(batch_size, 500),
        fetch_min_bytes=fetch.min_bytes,
        fetch_max_wait_ms=fetch.max_wait_ms,
        listener=committer,
    )
    async def consume_batch(message: KafkaMessage) -> None:
        records = [Record.of(raw) for raw in message.raw_message]
        await before_batch()
        if records:
            await processor.process_batch(records)
            await handled(message.consumer, records)

    return committer
