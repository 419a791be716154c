"""Reading dead letters back and replaying them to their original topic.

A replayed message keeps its bytes (or an operator's corrected version) and its key; it
passes the consumer's inbox like any other, so replaying twice never doubles an effect.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from tienda.contracts.topics import dead_letter_topic
from tienda.messaging.connection import Kafka, connection_of
from tienda.messaging.dead_letters import HEADER_PREFIX

REPLAYED_FROM = HEADER_PREFIX + "replayed-from"


@dataclass(frozen=True)
class DeadLetter:
    """One message a service gave up on, with why."""

    partition: int
    offset: int
    key: str | None
    value: bytes
    headers: Mapping[str, str]

    def header(self, name: str) -> str:
        return self.headers.get(HEADER_PREFIX + name, "")

    @property
    def original_topic(self) -> str:
        return self.header("original-topic")

    @property
    def reason(self) -> str:
        return f"{self.header('error-class')}: {self.header('error-message')}"

    @property
    def dead_lettered_at(self) -> datetime:
        stamp = self.header("dead-lettered-at")
        return datetime.fromisoformat(stamp) if stamp else datetime.now(UTC)

    def age(self, now: datetime | None = None) -> timedelta:
        return (now or datetime.now(UTC)) - self.dead_lettered_at


@dataclass(frozen=True)
class ReasonCount:
    """Dead letters of one original topic and error class: how many, the oldest."""

    original_topic: str
    error_class: str
    example: str
    count: int
    oldest: datetime


async def read_dead_letters(kafka: Kafka, service: str) -> list[DeadLetter]:
    """Every dead letter of a service on its topic now, oldest first."""
    topic = dead_letter_topic(service)
    partitions = [TopicPartition(topic.name, p) for p in range(topic.partitions)]
    consumer = AIOKafkaConsumer(enable_auto_commit=False, group_id=None, **connection_of(kafka).client_options())
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        return await _read_to_end(consumer, partitions)
    finally:
        await consumer.stop()


async def _read_to_end(consumer: AIOKafkaConsumer, partitions: list[TopicPartition]) -> list[DeadLetter]:
    end = await consumer.end_offsets(partitions)
    letters: list[DeadLetter] = []
    while [tp for tp in partitions if await consumer.position(tp) < end[tp]]:
        for records in (await consumer.getmany(timeout_ms=500)).values():
            letters.extend(
                _letter(record)
                for record in records
                if record.offset < end[TopicPartition(record.topic, record.partition)]
            )
    return sorted(letters, key=lambda letter: (letter.dead_lettered_at, letter.offset))


def _letter(record: Any) -> DeadLetter:
    """From an aiokafka ConsumerRecord of the dead-letter topic."""
    return DeadLetter(
        partition=record.partition,
        offset=record.offset,
        key=record.key.decode("utf-8", "replace") if record.key else None,
        value=record.value or b"",
        headers={name: value.decode("utf-8", "replace") for name, value in record.headers or ()},
    )


def count_by_reason(letters: Iterable[DeadLetter]) -> list[ReasonCount]:
    """Dead letters grouped by original topic and error class, the largest group first."""
    groups: dict[tuple[str, str], list[DeadLetter]] = {}
    for letter in letters:
        groups.setdefault((letter.original_topic, letter.header("error-class")), []).append(letter)
    counts = [
        ReasonCount(topic, error, group[0].header("error-message"), len(group), min(x.dead_lettered_at for x in group))
        for (topic, error), group in groups.items()
    ]
    return sorted(counts, key=lambda count: -count.count)


def select(letters: Iterable[DeadLetter], offsets: Iterable[int] = (), reason: str | None = None) -> list[DeadLetter]:
    """The letters at ``offsets`` and/or whose reason contains ``reason``; all when neither is given."""
    wanted = set(offsets)
    return [
        letter
        for letter in letters
        if (not wanted or letter.offset in wanted) and (reason is None or reason.lower() in letter.reason.lower())
    ]


async def replay(
    kafka: Kafka,
    letters: Iterable[DeadLetter],
    corrections: Mapping[int, bytes] | None = None,
    on_sent: Callable[[DeadLetter], None] = lambda letter: None,
) -> int:
    """Publish each letter (or its correction, by offset) to its original topic; how many were sent."""
    producer = AIOKafkaProducer(acks="all", enable_idempotence=True, **connection_of(kafka).client_options())
    await producer.start()
    sent = 0
    try:
        for letter in letters:
            value = (corrections or {}).get(letter.offset, letter.value)
            headers = [(REPLAYED_FROM, f"{letter.header('service')}@{letter.offset}".encode())]
            key = letter.key.encode() if letter.key else None
            await producer.send_and_wait(letter.original_topic, value, key=key, headers=headers)
            sent += 1
            on_sent(letter)
    finally:
        await producer.stop()
    return sent
