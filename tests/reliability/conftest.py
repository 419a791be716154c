"""Crash, restart, rebalance, outage and dirty-stream tests: real processes on the real broker."""

import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.samples_store import plans_for, plans_known
from tests.waiting import eventually
from tests.worker_database import Database
from tienda.contracts.topics import ACCOUNT_PLANS, topic_named
from tienda.devkit.workers import WorkerProcess, worker_env
from tienda.messaging.connection import Kafka, connection_of
from tienda.messaging.database import READ_ONLY, create_engine
from tienda.messaging.provisioning import ensure_topics

TOKEN = "reliability-token"


@pytest.fixture
async def topics(bootstrap_servers: str) -> None:
    await ensure_topics(bootstrap_servers)


@pytest.fixture
def data_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="tienda-reliability-"))


StartWorker = Callable[..., WorkerProcess]


@pytest.fixture
def start_worker(bootstrap_servers: str, data_dir: Path, topics: None) -> Iterator[StartWorker]:
    """Start a worker process (stopped at the end of the test, its log tail printed)."""
    started: list[WorkerProcess] = []

    def start(service: str, database_url: str, name: str | None = None, **settings: str) -> WorkerProcess:
        env = worker_env(
            service, bootstrap_servers, database_url, api_tokens=f'{{"{TOKEN}": ["*"]}}', log_json="false", **settings
        )
        worker = WorkerProcess(service, env, data_dir / f"{name or service}-{len(started)}.log")
        started.append(worker)
        worker.start()
        return worker

    yield start
    for worker in started:
        worker.stop()
        print(f"--- {worker.log_path.name} ---\n{worker.log_tail(12)}")


def sqlite_database(data_dir: Path, service: str) -> str:
    return f"sqlite+aiosqlite:///{data_dir / service}.db"


def postgres_database(postgres: object) -> str:
    return postgres.create_database(f"r_{uuid.uuid4().hex[:12]}")  # type: ignore[attr-defined]


@pytest.fixture
async def open_database() -> AsyncIterator[Callable[[str], Database]]:
    engines: list[AsyncEngine] = []

    def open_(url: str) -> Database:
        engines.append(create_engine(url).execution_options(**{READ_ONLY: True}))
        return Database(engines[-1])

    yield open_
    for engine in engines:
        await engine.dispose()


async def publish_all(kafka: Kafka, topic: str, messages: list[tuple[str, bytes]]) -> None:
    """Publish every (key, value) in order, waiting until the broker has them all."""
    producer = AIOKafkaProducer(
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        max_batch_size=256 * 1024,
        **connection_of(kafka).client_options(),
    )
    await producer.start()
    try:
        deliveries = [await producer.send(topic, value, key=key.encode()) for key, value in messages]
        for delivery in deliveries:
            await delivery
    finally:
        await producer.stop()


async def consumer_lag(kafka: Kafka, group: str, topic: str) -> int | None:
    """Records on ``topic`` that ``group`` has not committed past; None before it committed anything."""
    options = connection_of(kafka).client_options()
    admin = AIOKafkaAdminClient(**options)
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    partitions = [TopicPartition(topic, p) for p in range(topic_named(topic).partitions)]
    consumer = AIOKafkaConsumer(group_id=None, **options)
    await consumer.start()
    try:
        end = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    if not any(tp in committed and committed[tp].offset >= 0 for tp in partitions):
        return None
    return sum(end[tp] - max(committed[tp].offset if tp in committed else 0, 0) for tp in partitions)


async def contract_plans(kafka: Kafka, store_db: Database, account_ids: list[str]) -> None:
    """Every account contracts a plan, and the store has them all before any cart is sent."""
    await publish_all(kafka, ACCOUNT_PLANS.name, plans_for(account_ids))
    await eventually(lambda: plans_known(store_db, account_ids), timeout=60, what="the store knows every plan")
