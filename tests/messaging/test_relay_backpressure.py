"""The consumer does not outrun the relay: it waits while too many committed rows are unpublished."""

import asyncio

from tests.fakes import FakePublisher
from tests.messaging.conftest import rejection
from tienda.messaging.counters import Counters
from tienda.messaging.database import session_factory
from tienda.messaging.relay import OutboxRelay
from tienda.messaging.unit_of_work import UnitOfWork


async def commit_rows(engine, tables, relay: OutboxRelay, count: int) -> None:
    async with UnitOfWork(session_factory(engine), tables, "store", on_commit=relay.wake) as uow:
        for _ in range(count):
            await uow.emit(rejection(), account_id="acc-ferreteria")
        await uow.commit()


async def test_committed_rows_count_as_pending_until_the_relay_publishes_them(engine, tables):
    relay = OutboxRelay(engine, tables, FakePublisher(), Counters(), batch_size=4)
    await commit_rows(engine, tables, relay, 10)
    assert relay.pending == 10
    await relay.keep_up(limit=10)  # at the limit: no wait
    waiting = asyncio.create_task(relay.keep_up(limit=3))
    await asyncio.sleep(0)
    assert not waiting.done(), "ten rows pending, the consumer must wait for the relay"
    running = asyncio.create_task(relay.run())
    try:
        await asyncio.wait_for(waiting, 5)
        assert relay.pending <= 3
        assert await relay.backlog() <= 3
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)


async def test_a_waiting_consumer_recounts_the_backlog_when_the_relay_shows_no_progress(engine, tables):
    relay = OutboxRelay(engine, tables, FakePublisher(), Counters())
    relay.wake(committed=5_000)  # rows that another instance published, say: the estimate is stale
    await asyncio.wait_for(relay.keep_up(limit=100, recount_every=0.05), 5)
    assert relay.pending == 0
