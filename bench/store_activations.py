"""Activations per second of one store worker on a real broker.

    uv run python bench/store_activations.py                 # its own Kafka from the jars, SQLite
    uv run python bench/store_activations.py --postgres      # a throwaway PostgreSQL
    uv run python bench/store_activations.py --carts 5000 --database-url postgresql+asyncpg://...
    KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 uv run python bench/store_activations.py

Starts a broker (unless KAFKA_BOOTSTRAP_SERVERS is set: then use a broker no other store
worker consumes from, since the worker joins the consumer group ``tienda-store``), one store
worker process, publishes a PlanContracted for each account and waits until the store has
them, then publishes N carts at once and measures, from the first cart published:

- committed: every cart activated (its activation row committed with its outbox rows);
- relayed:   every ActivationCompleted, ChargeScheduled and PlanSnapshot published to Kafka.
"""

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.samples import activation_requested  # noqa: E402
from tests.samples_store import plan_contracted  # noqa: E402

from tienda.contracts.topics import ACCOUNT_PLANS, ACTIVATION_REQUESTS  # noqa: E402
from tienda.devkit.kafka import LocalKafka  # noqa: E402
from tienda.devkit.postgres import LocalPostgres  # noqa: E402
from tienda.devkit.workers import WorkerProcess, worker_env  # noqa: E402
from tienda.messaging.codec import encode  # noqa: E402
from tienda.messaging.connection import Kafka, connection_of  # noqa: E402
from tienda.messaging.provisioning import ensure_topics  # noqa: E402
from tienda.messaging.settings import ClientSettings  # noqa: E402
from tienda.store.adapters.tables import account_plans, activations, messaging  # noqa: E402


async def publish(kafka: Kafka, topic: str, messages: list[tuple[str, bytes]]) -> None:
    producer = AIOKafkaProducer(
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        max_batch_size=256 * 1024,
        **connection_of(kafka).client_options(),
    )
    await producer.start()
    try:
        sent = [await producer.send(topic, value, key=key.encode()) for key, value in messages]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


async def count(engine: AsyncEngine, query: Any) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(query) or 0)


async def when(engine: AsyncEngine, query: Any, reached: Callable[[int], bool], what: str) -> float:
    """The moment ``query`` counts what ``reached`` wants (polled every 50 ms, for at most ten minutes)."""
    try:
        async with asyncio.timeout(600):
            while not reached(await count(engine, query)):  # noqa: ASYNC110 - polling another process's database
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise SystemExit(f"{what}: not reached within ten minutes") from None
    return time.perf_counter()


async def bench(bootstrap_servers: Kafka, database_url: str, carts: int, accounts: int, log: Path) -> None:
    await ensure_topics(bootstrap_servers)
    worker = WorkerProcess("store", worker_env("store", bootstrap_servers, database_url, log_json="false"), log)
    worker.start()
    engine = create_async_engine(database_url)  # plain reads: no BEGIN IMMEDIATE competing with the worker
    try:
        run = uuid.uuid4().hex[:6]
        account_ids = [f"acc-bench-{run}-{n:03d}" for n in range(accounts)]
        await publish(bootstrap_servers, ACCOUNT_PLANS.name, [(a, encode(plan_contracted(a))) for a in account_ids])
        known = select(func.count()).select_from(account_plans).where(account_plans.c.account_id.in_(account_ids))
        await when(engine, known, lambda n: n >= accounts, "plans known")

        rng = random.Random(7)  # noqa: S311 - sample data, not secrets
        stream = [activation_requested(rng.choice(account_ids), ("USR-EXTRA", rng.randint(1, 3))) for _ in range(carts)]
        messages = [(envelope.account_id, encode(envelope)) for envelope in stream]
        done = select(func.count()).select_from(activations).where(activations.c.account_id.in_(account_ids))
        backlog = select(func.count()).select_from(messaging.outbox).where(messaging.outbox.c.published_at.is_(None))

        started = time.perf_counter()
        await publish(bootstrap_servers, ACTIVATION_REQUESTS.name, messages)
        published = time.perf_counter()
        committed = await when(engine, done, lambda n: n >= carts, "carts activated")
        relayed = await when(engine, backlog, lambda n: n == 0, "outbox relayed")
    finally:
        await engine.dispose()
        worker.stop()
    print(f"database   {database_url.split('://', maxsplit=1)[0]}")
    print(f"carts      {carts} over {accounts} accounts (one store worker, 6 partitions)")
    print(f"published  in {published - started:.2f}s")
    print(f"committed  in {committed - started:.2f}s: {carts / (committed - started):.0f} activations/s")
    print(f"relayed    in {relayed - started:.2f}s: {carts / (relayed - started):.0f} activations/s end to end")


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    cli.add_argument("--carts", type=int, default=2000)
    cli.add_argument("--accounts", type=int, default=50)
    cli.add_argument("--database-url", default="", help="default: a SQLite file in a temporary directory")
    cli.add_argument("--postgres", action="store_true", help="start a throwaway PostgreSQL and use it")
    arguments = cli.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tienda-bench-"))
    database_url = arguments.database_url or f"sqlite+aiosqlite:///{work / 'store.db'}"
    postgres = LocalPostgres() if arguments.postgres else None
    if postgres is not None:
        postgres.start()
        database_url = postgres.create_database("bench_store")
    # An external broker comes with its security from the KAFKA_* variables (README).
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    bootstrap_servers: Kafka = ClientSettings().kafka() if external else ""
    kafka = None if external else LocalKafka(work / "kafka")
    if kafka is not None:
        bootstrap_servers = kafka.start(timeout=90)
    try:
        asyncio.run(bench(bootstrap_servers, database_url, arguments.carts, arguments.accounts, work / "store.log"))
    finally:
        if kafka is not None:
            kafka.stop()
        if postgres is not None:
            postgres.stop()
            postgres.cleanup()
    print(f"logs       {work}")


if __name__ == "__main__":
    main()
