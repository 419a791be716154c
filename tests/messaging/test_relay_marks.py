"""The relay writes a round's "published" marks behind it: the next round does not wait for them,
rows whose mark is being written are not published again, and a mark that fails has its rows
published again (the consumers' inboxes drop the copies)."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.fakes import FakePublisher
from tests.messaging.conftest import rejection
from tienda.messaging.counters import Counters
from tienda.messaging.database import session_factory
from tienda.messaging.relay import OutboxRelay
from tienda.messaging.tables import MessagingTables
from tienda.messaging.unit_of_work import UnitOfWork


async def commit_rows(engine: AsyncEngine, tables: MessagingTables, count: int) -> None:
    async with UnitOfWork(session_factory(engine), tables, "store") as uow:
        for _ in range(count):
            await uow.emit(rejection(), account_id="acc-ferreteria")
        await uow.commit()


@asynccontextmanager
async def outbox_writes_held(engine: AsyncEngine) -> AsyncIterator[None]:
    """Another transaction keeps the outbox from being updated (readers go on) until the block ends."""
    holding, release = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                await connection.execute(text("LOCK TABLE outbox IN EXCLUSIVE MODE"))
            else:
                await connection.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: the file's write lock
            holding.set()
            await release.wait()

    holder = asyncio.create_task(hold())
    await asyncio.wait_for(holding.wait(), 5)
    try:
        yield
    finally:
        release.set()
        await holder


async def test_a_round_returns_before_its_mark_is_written_and_its_rows_are_not_sent_again(engine, tables):
    publisher = FakePublisher()
    relay = OutboxRelay(engine, tables, publisher, Counters(), batch_size=10)
    await commit_rows(engine, tables, 3)
    async with outbox_writes_held(engine):
        assert await asyncio.wait_for(relay.relay_batch(), 5) == 3, "the round waited for its mark"
        assert len(publisher.sent) == 3
        assert await relay.backlog() == 3, "the mark cannot have been written yet"
        next_round = asyncio.create_task(relay.relay_batch())
        await asyncio.sleep(0.1)
        assert not next_round.done(), "with nothing else to send, the next round waits for the mark"
        assert len(publisher.sent) == 3, "rows whose mark is being written were published again"
    assert await asyncio.wait_for(next_round, 5) == 0
    assert await relay.backlog() == 0
    assert len(publisher.sent) == 3


async def test_rows_whose_mark_failed_are_published_again(engine, tables):
    publisher = FakePublisher()
    relay = OutboxRelay(engine, tables, publisher, Counters(), batch_size=10)
    await commit_rows(engine, tables, 2)
    marks = relay._mark_sent
    relay._mark_sent = text("UPDATE no_such_table SET published_at = :sent_at")  # the database refuses the mark
    assert await relay.relay_batch() == 2
    with pytest.raises(Exception, match="no_such_table"):
        await relay.relay_batch()  # the failure surfaces at the next round (``run`` backs off and retries)
    relay._mark_sent = marks
    assert await relay.relay_batch() == 2, "the rows left unmarked are read and sent again"
    assert await relay.relay_batch() == 0
    assert await relay.backlog() == 0
    assert len(publisher.sent) == 4
