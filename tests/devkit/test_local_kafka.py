"""The local Kafka launcher against a real broker: start, round trip, crash, restart, clean stop."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from tienda.devkit.kafka import KafkaStartError, LocalKafka

pytestmark = [pytest.mark.broker, pytest.mark.timeout(120)]


@pytest.fixture
def kafka(tmp_path: Path) -> Iterator[LocalKafka]:
    broker = LocalKafka(tmp_path / "kafka")
    try:
        broker.start(timeout=60)
    except KafkaStartError:
        broker.stop()
        raise
    yield broker
    broker.stop()


def _pid_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _processes_mentioning(text: str) -> list[int]:
    """Pids whose command line mentions text (the data dir is in the broker's arguments)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline and int(entry.name) != os.getpid():
            found.append(int(entry.name))
    return found


async def _create_topic(bootstrap: str, name: str, partitions: int) -> int:
    """Create a topic and return its partition count as the broker describes it."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])
        described = await admin.describe_topics([name])
        return len(described[0]["partitions"])
    finally:
        await admin.close()


async def _produce(bootstrap: str, topic: str, key: bytes, value: bytes) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()


async def _consume_one(bootstrap: str, topic: str) -> tuple[bytes | None, bytes | None]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"test-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        batches = await consumer.getmany(timeout_ms=15_000, max_records=1)
        records = [record for partition_records in batches.values() for record in partition_records]
        assert records, "no record consumed within 15 s"
        return records[0].key, records[0].value
    finally:
        await consumer.stop()


@pytest.mark.asyncio
async def test_round_trip_then_stop_leaves_no_java_process(kafka: LocalKafka) -> None:
    bootstrap = kafka.bootstrap_servers
    assert bootstrap == f"127.0.0.1:{kafka.port}"

    assert await _create_topic(bootstrap, "orders", partitions=3) == 3
    await _produce(bootstrap, "orders", b"order-1", b"hola")
    assert await _consume_one(bootstrap, "orders") == (b"order-1", b"hola")

    pid = kafka.pid
    assert pid is not None
    kafka.stop()
    assert _pid_gone(pid)
    assert _processes_mentioning(str(kafka.data_dir)) == []
    assert "Kafka Server started" in kafka.log_tail(lines=10_000)


@pytest.mark.asyncio
async def test_data_survives_kill_and_restart(kafka: LocalKafka) -> None:
    bootstrap = kafka.bootstrap_servers
    await _create_topic(bootstrap, "payments", partitions=3)
    await _produce(bootstrap, "payments", b"p-1", b"kept")

    pid = kafka.pid
    assert pid is not None
    kafka.kill()
    assert _pid_gone(pid)

    assert kafka.restart() == bootstrap
    assert await _consume_one(bootstrap, "payments") == (b"p-1", b"kept")


def test_port_in_use_fails_with_the_broker_log(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        busy_port = squatter.getsockname()[1]
        broker = LocalKafka(tmp_path / "kafka", port=busy_port)

        with pytest.raises(KafkaStartError) as raised:
            broker.start(timeout=90)  # the broker gives up as soon as the port is refused; 90 s on a loaded machine

    message = str(raised.value)
    assert str(busy_port) in message
    assert "broker.log" in message
    assert "Address already in use" in message or "BindException" in message, message
    assert not broker.running
    assert _processes_mentioning(str(broker.data_dir)) == []
