"""Reading and writing topics for an operator: tailing, publishing samples."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from pydantic import ValidationError

from tienda.contracts.envelope import Envelope, new_envelope
from tienda.contracts.registry import UnknownMessageType, payload_class
from tienda.contracts.topics import TOPICS, topic_named
from tienda.messaging.codec import describe, encode
from tienda.messaging.connection import Kafka, connection_of

SAMPLES_DIR = Path(__file__).resolve().parents[4] / "examples" / "messages"

Show = Callable[[str | None, dict[str, Any] | None, bytes], None]


async def tail_topic(
    kafka: Kafka,
    topic: str,
    show: Show,
    account: str | None = None,
    message_type: str | None = None,
    from_beginning: bool = False,
    exit_at_end: bool = False,
) -> int:
    """Show each message of ``topic`` that matches; how many were shown."""
    consumer = AIOKafkaConsumer(group_id=None, enable_auto_commit=False, **connection_of(kafka).client_options())
    await consumer.start()
    shown = 0
    try:
        partitions = await _partitions(consumer, topic)
        consumer.assign(partitions)
        if from_beginning:
            await consumer.seek_to_beginning(*partitions)
        else:
            await consumer.seek_to_end(*partitions)
        end = await consumer.end_offsets(partitions)
        while not (exit_at_end and await _caught_up(consumer, end)):
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                for record in records:
                    shown += _show_if_wanted(record, show, account, message_type)
        return shown
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    try:
        count = topic_named(topic).partitions
    except KeyError:
        await consumer.topics()
        count = len(consumer.partitions_for_topic(topic) or ())
    if not count:
        raise ValueError(f"topic {topic} does not exist")
    return [TopicPartition(topic, partition) for partition in range(count)]


async def _caught_up(consumer: AIOKafkaConsumer, end: dict[TopicPartition, int]) -> bool:
    """Whether every partition was read up to where it ended when the tail began."""
    return all([await consumer.position(partition) >= offset for partition, offset in end.items()])


def _show_if_wanted(record: Any, show: Show, account: str | None, message_type: str | None) -> int:
    key = record.key.decode("utf-8", "replace") if record.key else None
    try:
        document = json.loads(record.value)
    except (ValueError, TypeError):
        document = None
    if account and key != account:
        return 0
    if message_type and (document or {}).get("type") != message_type:
        return 0
    show(key, document if isinstance(document, dict) else None, record.value or b"")
    return 1


def sample_envelope(message_type: str, account_id: str, file: Path | None = None) -> Envelope[Any]:
    """A valid envelope of ``message_type``: from a file (payload or whole envelope) or the shipped sample."""
    try:
        payload_type = payload_class(message_type)
    except UnknownMessageType as error:
        raise ValueError(str(error)) from None
    path = file or SAMPLES_DIR / f"{message_type}.json"
    if not path.exists():
        raise ValueError(f"no sample for {message_type}: write its payload as JSON in {path} or pass --file")
    document = json.loads(path.read_text())
    payload = document.get("payload", document) if "type" in document else document
    try:
        return new_envelope(payload_type.model_validate(payload), account_id=account_id, producer="tienda-ops")
    except ValidationError as error:
        raise ValueError(f"{path}: {describe(error, 'payload.')}") from None


async def publish_sample(
    kafka: Kafka, message_type: str, account_id: str, file: Path | None = None
) -> tuple[str, Envelope[Any]]:
    """Publish a sample of ``message_type`` on the first topic that carries it."""
    envelope = sample_envelope(message_type, account_id, file)
    topic = next(t.name for t in TOPICS if message_type in t.messages)
    producer = AIOKafkaProducer(acks="all", enable_idempotence=True, **connection_of(kafka).client_options())
    await producer.start()
    try:
        await producer.send_and_wait(topic, encode(envelope), key=account_id.encode())
    finally:
        await producer.stop()
    return topic, envelope
