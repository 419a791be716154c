"""Talking to the real broker from the tests as an outside system would."""

import json
import shutil
import subprocess
from collections import Counter
from collections.abc import Collection, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from tienda.contracts.envelope import Envelope
from tienda.contracts.topics import topic_named
from tienda.messaging.codec import encode
from tienda.messaging.connection import Kafka, connection_of


def kcat_publish(bootstrap_servers: str, topic: str, key: str, value: bytes) -> None:
    """Publish with Debian's kcat: a client that shares no code with Tienda."""
    kcat = shutil.which("kcat") or shutil.which("kafkacat")
    assert kcat, "kcat is not installed: run `make setup` (apt-get install kcat)"
    subprocess.run(
        [kcat, "-b", bootstrap_servers, "-P", "-t", topic, "-k", key], input=value + b"\n", check=True, timeout=30
    )


def kcat_publish_many(bootstrap_servers: str, topic: str, messages: Sequence[tuple[str, bytes]]) -> None:
    """Publish many (key, value) messages in order with one kcat process (one line each, key and
    value split by a tab; a Tienda message is one line of JSON)."""
    kcat = shutil.which("kcat") or shutil.which("kafkacat")
    assert kcat, "kcat is not installed: run `make setup` (apt-get install kcat)"
    lines = b"".join(key.encode() + b"\t" + value + b"\n" for key, value in messages)
    subprocess.run([kcat, "-b", bootstrap_servers, "-P", "-t", topic, "-K", "\t"], input=lines, check=True, timeout=60)


async def publish(kafka: Kafka, topic: str, *messages: Envelope[Any] | tuple[str, bytes]) -> None:
    """Publish as the connection's principal (a plain broker when given bootstrap servers)."""
    producer = AIOKafkaProducer(acks="all", enable_idempotence=True, **connection_of(kafka).client_options())
    await producer.start()
    try:
        for message in messages:
            key, value = (message.account_id, encode(message)) if isinstance(message, Envelope) else message
            await producer.send_and_wait(topic, value, key=key.encode())
    finally:
        await producer.stop()


class TopicReader:
    """Reads a topic from the beginning; remembers everything it saw."""

    def __init__(self, kafka: Kafka, topic: str) -> None:
        self.records: list[Any] = []
        self._consumer = AIOKafkaConsumer(
            topic,
            **connection_of(kafka).client_options(),
            group_id=None,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )

    async def __aenter__(self) -> "TopicReader":
        await self._consumer.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._consumer.stop()

    async def poll(self) -> list[Any]:
        batches = await self._consumer.getmany(timeout_ms=200)
        for batch in batches.values():
            self.records.extend(batch)
        return self.records

    def messages(self, account_id: str | None = None, message_type: str | None = None) -> list[dict[str, Any]]:
        found = []
        for record in self.records:
            try:
                document = json.loads(record.value)
            except ValueError:
                continue
            if account_id in (None, document.get("account_id")) and message_type in (None, document.get("type")):
                found.append(document)
        return found

    def headers(self) -> list[dict[str, str]]:
        return [{name: value.decode() for name, value in record.headers} for record in self.records]


def kcat_read(bootstrap_servers: str, topic: str) -> list[tuple[str, dict[str, Any]]]:
    """Every (key, JSON value) on a topic now, read with Debian's kcat."""
    kcat = shutil.which("kcat") or shutil.which("kafkacat")
    assert kcat, "kcat is not installed: run `make setup` (apt-get install kcat)"
    result = subprocess.run(
        [kcat, "-b", bootstrap_servers, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%k\t%s\n"],
        capture_output=True,
        check=True,
        timeout=60,
    )
    records = []
    for line in result.stdout.decode().splitlines():
        key, _, value = line.partition("\t")
        records.append((key, json.loads(value)))
    return records


async def read_to_end(bootstrap_servers: str, *topics: str) -> list[Any]:
    """Every record on ``topics`` from the beginning to the end they have now."""
    partitions = [TopicPartition(t, p) for t in topics for p in range(topic_named(t).partitions)]
    if not partitions:
        return []
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        records: list[Any] = []
        behind = [tp for tp in partitions if end[tp] > 0]
        while behind:
            for batch in (await consumer.getmany(*behind, timeout_ms=500, max_records=10_000)).values():
                records.extend(batch)
            behind = [tp for tp in behind if await consumer.position(tp) < end[tp]]
        return records
    finally:
        await consumer.stop()


async def copies_on_the_wire(
    bootstrap_servers: str, topics: Collection[str], event_ids: Collection[str]
) -> Counter[str]:
    """How many times each of ``event_ids`` was published on ``topics`` (absent: never)."""
    wanted = set(event_ids)
    copies: Counter[str] = Counter()
    for record in await read_to_end(bootstrap_servers, *topics):
        try:
            event_id = json.loads(record.value).get("event_id")
        except (ValueError, AttributeError):
            continue  # another test's poison
        if event_id in wanted:
            copies[event_id] += 1
    return copies
