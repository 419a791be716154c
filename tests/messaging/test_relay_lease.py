"""Replicas on one PostgreSQL outbox: one relays at a time, the others stand by and take
over when it goes. Real PostgreSQL, real broker; each replica has its own engine and producer."""

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest
from sqlalchemy import MetaData, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.kafka_client import copies_on_the_wire, read_to_end
from tests.messaging.conftest import rejection
from tests.waiting import eventually
from tienda.contracts.topics import STORE_EVENTS
from tienda.messaging.counters import Counters
from tienda.messaging.database import create_engine, session_factory
from tienda.messaging.provisioning import ensure_topics
from tienda.messaging.publisher import KafkaPublisher
from tienda.messaging.relay import OutboxRelay
from tienda.messaging.relay_lease import AdvisoryLease, AnotherWorkerRunning, claim_sqlite_file, relay_lease
from tienda.messaging.tables import MessagingTables
from tienda.messaging.unit_of_work import UnitOfWork
from tienda.messaging.worker import run_worker
from tienda.store.bootstrap import definition
from tienda.store.config import StoreSettings

pytestmark = [pytest.mark.broker, pytest.mark.postgres]

POLL = 0.1
TABLES = MessagingTables(MetaData())


@dataclass
class Replica:
    """One instance's relay on the shared outbox."""

    engine: AsyncEngine
    publisher: KafkaPublisher
    relay: OutboxRelay
    counters: Counters
    task: "asyncio.Task[None] | None" = None

    def start(self) -> None:
        self.task = asyncio.create_task(self.relay.run())

    async def stop(self) -> None:
        if self.task:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
            self.task = None

    async def commit(self, account_ids: list[str], count: int) -> None:
        """``count`` outbox rows over the accounts, committed through this replica's unit of work."""
        uow = UnitOfWork(session_factory(self.engine), TABLES, "store", on_commit=self.relay.wake)
        async with uow:
            for n in range(count):
                await uow.emit(rejection(), account_id=account_ids[n % len(account_ids)])
            await uow.commit()


@dataclass
class Outbox:
    url: str
    accounts: list[str] = field(default_factory=lambda: [f"acc-lease-{uuid.uuid4().hex[:6]}-{n}" for n in range(6)])

    async def rows(self, engine: AsyncEngine) -> list[tuple[str, str]]:
        """(event id, key) of every row, in id order."""
        async with engine.connect() as connection:
            result = await connection.execute(select(TABLES.outbox.c.event_id, TABLES.outbox.c.key).order_by("id"))
            return [(row.event_id, row.key) for row in result]


@pytest.fixture
async def outbox(postgres, bootstrap_servers) -> Outbox:
    await ensure_topics(bootstrap_servers)
    url = postgres.create_database(f"lease_{uuid.uuid4().hex[:12]}")
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(TABLES.outbox.metadata.create_all)
    await engine.dispose()
    return Outbox(url)


@pytest.fixture
async def replica(outbox, bootstrap_servers) -> AsyncIterator[Callable[[], Replica]]:
    made: list[Replica] = []

    def make() -> Replica:
        engine, counters = create_engine(outbox.url), Counters()
        publisher = KafkaPublisher(bootstrap_servers, "tienda-store")
        lease = AdvisoryLease(engine, "tienda.store.outbox-relay", poll=POLL)
        relay = OutboxRelay(engine, TABLES, publisher, counters, batch_size=50, lease=lease)
        made.append(Replica(engine, publisher, relay, counters))
        return made[-1]

    yield make
    for each in made:
        await each.stop()
        await each.publisher.stop()
        await each.engine.dispose()


async def running(*replicas: Replica) -> None:
    for each in replicas:
        await each.publisher.start()
        each.start()


async def leader_among(*replicas: Replica) -> Replica:
    leaders = await eventually(lambda: _leaders(replicas), timeout=10, what="one replica holding the relay lease")
    assert len(leaders) == 1, f"{len(leaders)} replicas hold the lease at once"
    return leaders[0]


async def _leaders(replicas: tuple[Replica, ...]) -> list[Replica]:
    return [each for each in replicas if each.relay.leader]


async def drained(replica: Replica) -> bool:
    return await replica.relay.backlog() == 0


async def test_two_relays_on_one_outbox_publish_each_row_once_in_order(outbox, replica, bootstrap_servers):
    first, second = replica(), replica()
    await running(first, second)
    for _ in range(20):  # both replicas commit, interleaved, while both relays run
        await first.commit(outbox.accounts, 15)
        await second.commit(outbox.accounts, 15)
    await eventually(lambda: drained(first), what="the outbox published")

    rows = await outbox.rows(first.engine)
    copies = await copies_on_the_wire(bootstrap_servers, [STORE_EVENTS.name], [event_id for event_id, _ in rows])
    assert len(rows) == 600
    assert {event_id: copies[event_id] for event_id, _ in rows} == {event_id: 1 for event_id, _ in rows}
    assert sorted([first.counters.published, second.counters.published]) == [0, 600]
    assert [each.relay.leader for each in (first, second)].count(True) == 1
    wire = [json.loads(r.value) for r in await read_to_end(bootstrap_servers, STORE_EVENTS.name)]
    for account_id in outbox.accounts:
        expected = [event_id for event_id, key in rows if key == account_id]
        assert [m["event_id"] for m in wire if m.get("account_id") == account_id] == expected


async def test_a_stopped_holder_hands_the_relay_over_and_nothing_is_published_twice(outbox, replica, bootstrap_servers):
    first, second = replica(), replica()
    await running(first, second)
    holder = await leader_among(first, second)
    standby = second if holder is first else first
    await holder.commit(outbox.accounts, 100)
    await eventually(lambda: drained(holder), what="the holder's rows published")

    stopped_at = time.monotonic()
    await holder.stop()
    await eventually(lambda: _leaders((standby,)), timeout=10, what="the standby taking the relay over")
    print(f"relay handed over {1000 * (time.monotonic() - stopped_at):.0f} ms after the holder stopped (poll {POLL}s)")
    await holder.commit(outbox.accounts, 100)  # the stopped replica's consumer may still commit
    await standby.commit(outbox.accounts, 100)
    await eventually(lambda: drained(standby), what="the rows committed after the handover published")

    rows = await outbox.rows(standby.engine)
    copies = await copies_on_the_wire(bootstrap_servers, [STORE_EVENTS.name], [event_id for event_id, _ in rows])
    assert sorted(copies.values()) == [1] * 300
    assert (holder.counters.published, standby.counters.published) == (100, 200)


async def test_a_holder_whose_database_session_dies_stops_relaying_and_one_replica_relays_again(
    outbox, replica, bootstrap_servers
):
    first, second = replica(), replica()
    await running(first, second)
    holder = await leader_among(first, second)
    async with holder.engine.connect() as connection:
        killed = await connection.scalar(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks "
                "WHERE locktype = 'advisory' AND granted AND database = "
                "(SELECT oid FROM pg_database WHERE datname = current_database())"
            )
        )
    assert killed is True
    await eventually(lambda: _noticed(holder), timeout=10, what="the holder seeing its lease session gone")
    relaying = await leader_among(first, second)  # the standby, or the old holder on a new session

    await first.commit(outbox.accounts, 50)
    await second.commit(outbox.accounts, 50)
    await eventually(lambda: drained(relaying), what="the outbox published after the session died")
    rows = await outbox.rows(relaying.engine)
    copies = await copies_on_the_wire(bootstrap_servers, [STORE_EVENTS.name], [event_id for event_id, _ in rows])
    assert sorted(copies.values()) == [1] * 100
    assert await leader_among(first, second) is relaying


async def _noticed(replica: Replica) -> bool:
    return replica.counters.publish_failures > 0


async def test_a_standby_consumer_waits_for_the_holders_relay_and_does_not_deadlock(outbox, replica):
    first, second = replica(), replica()
    await running(first, second)
    holder = await leader_among(first, second)
    standby = second if holder is first else first
    await standby.commit(outbox.accounts, 400)
    assert standby.relay.pending == 400

    began = time.monotonic()
    await asyncio.wait_for(standby.relay.keep_up(limit=100), timeout=10)
    print(f"the standby's consumer went on {1000 * (time.monotonic() - began):.0f} ms later")
    assert standby.relay.pending <= 100
    assert standby.counters.published == 0
    assert holder.counters.published >= 300


async def test_sqlite_and_a_turned_off_lease_relay_alone_without_asking(tmp_path, outbox):
    sqlite = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}")
    postgres = create_engine(outbox.url)
    try:
        for lease in (relay_lease(sqlite, "store"), relay_lease(postgres, "store", enabled=False)):
            assert await lease.hold() is True
            assert lease.held is True
        assert isinstance(relay_lease(postgres, "store"), AdvisoryLease)
    finally:
        await sqlite.dispose()
        await postgres.dispose()


async def test_a_worker_on_a_sqlite_file_that_another_worker_uses_stops_before_doing_anything(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    settings = StoreSettings(database_url=url)
    running = claim_sqlite_file(url, "store")  # the first worker's claim
    try:
        with pytest.raises(AnotherWorkerRunning, match="SQLite takes one worker per database file"):
            await run_worker(definition(settings), settings)
    finally:
        assert running is not None
        running.close()
    assert not (tmp_path / "store.db").exists(), "the refused worker must not have touched the database"


def test_a_second_claim_on_one_sqlite_file_is_refused_with_what_to_do(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    claim = claim_sqlite_file(url, "store")
    assert claim is not None
    with pytest.raises(SystemExit, match=r"another store worker \(pid \d+\) already runs on .*store\.db.*PostgreSQL"):
        claim_sqlite_file(url, "store")
    claim.close()
    again = claim_sqlite_file(url, "store")  # the first one went: the file is free
    assert again is not None
    again.close()
    assert claim_sqlite_file("postgresql+asyncpg://u@127.0.0.1/store", "store") is None
