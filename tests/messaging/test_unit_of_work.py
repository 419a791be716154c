"""The unit of work on SQLite and PostgreSQL: state, inbox and outbox commit together."""

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.messaging.conftest import rejection
from tests.samples import account, activation_requested
from tienda.messaging.database import session_factory
from tienda.messaging.tables import MessagingTables
from tienda.messaging.unit_of_work import Delivery, UnitOfWork

DELIVERY = Delivery("tienda.activations.requested", 0, 42)


def unit_of_work(engine: AsyncEngine, tables: MessagingTables) -> UnitOfWork:
    return UnitOfWork(session_factory(engine), tables, "store")


async def outbox_rows(engine: AsyncEngine, tables: MessagingTables) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(tables.outbox)) or 0)


async def test_emitted_messages_are_kept_when_the_transaction_commits(engine, tables):
    async with unit_of_work(engine, tables) as uow:
        await uow.emit(rejection(), account_id="acc-ferreteria")
        await uow.commit()
    assert await outbox_rows(engine, tables) == 1


async def test_nothing_is_emitted_for_a_transaction_that_rolled_back(engine, tables):
    async with unit_of_work(engine, tables) as uow:
        await uow.emit(rejection(), account_id="acc-ferreteria")
    assert await outbox_rows(engine, tables) == 0


async def test_a_processed_event_id_is_remembered(engine, tables):
    envelope = activation_requested(account())
    async with unit_of_work(engine, tables) as uow:
        await uow.mark_processed(envelope, DELIVERY)
        await uow.commit()
    async with unit_of_work(engine, tables) as uow:
        assert await uow.already_processed(envelope.event_id)


async def test_the_inbox_refuses_the_same_event_id_twice(engine, tables):
    envelope = activation_requested(account())
    async with unit_of_work(engine, tables) as uow:
        await uow.mark_processed(envelope, DELIVERY)
        await uow.commit()
    async with unit_of_work(engine, tables) as uow:
        await uow.mark_processed(envelope, DELIVERY)
        with pytest.raises(IntegrityError):
            await uow.commit()


async def test_inbox_and_outbox_rows_are_written_at_commit_in_the_order_they_were_added(engine, tables):
    envelopes = [activation_requested(account()) for _ in range(3)]
    async with unit_of_work(engine, tables) as uow:
        emitted = [await uow.emit(rejection(), account_id="acc-ferreteria") for _ in range(5)]
        for envelope in envelopes:
            await uow.mark_processed(envelope, DELIVERY)
        assert await uow.processed_among(e.event_id for e in envelopes) == {str(e.event_id) for e in envelopes}
        async with engine.connect() as other:
            assert await other.scalar(select(func.count()).select_from(tables.inbox)) == 0
        await uow.commit()
    async with engine.connect() as connection:
        ids = (await connection.execute(select(tables.outbox.c.event_id).order_by(tables.outbox.c.id))).scalars()
        assert list(ids) == [str(e.event_id) for e in emitted]
    async with unit_of_work(engine, tables) as uow:
        assert await uow.processed_among([envelopes[0].event_id, "never-seen"]) == {str(envelopes[0].event_id)}
