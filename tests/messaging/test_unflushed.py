"""UNFLUSHED transactions (the relay's marks) skip the wait for the disk; every other one waits."""

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tienda.messaging.database import UNFLUSHED


async def flush_setting(connection: AsyncConnection) -> str:
    if connection.dialect.name == "sqlite":
        return {0: "off", 1: "normal", 2: "full", 3: "extra"}[await connection.scalar(text("PRAGMA synchronous"))]
    return str(await connection.scalar(text("SHOW synchronous_commit")))


async def test_an_unflushed_transaction_skips_the_flush_and_the_next_one_flushes_again(engine):
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE marks (n INTEGER PRIMARY KEY)"))
    async with engine.execution_options(**{UNFLUSHED: True}).begin() as connection:
        await connection.execute(text("INSERT INTO marks (n) VALUES (1)"))
        during = await flush_setting(connection)
        unflushed_on = (await connection.get_raw_connection()).driver_connection
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO marks (n) VALUES (2)"))
        after = await flush_setting(connection)
        rows = (await connection.execute(text("SELECT n FROM marks ORDER BY n"))).scalars().all()
        assert (await connection.get_raw_connection()).driver_connection is unflushed_on
    assert (during, after) == ("off", "full" if engine.dialect.name == "sqlite" else "on")
    assert rows == [1, 2]


async def test_a_rolled_back_unflushed_transaction_leaves_the_connection_flushing(engine):
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE marks (n INTEGER PRIMARY KEY)"))
    try:
        async with engine.execution_options(**{UNFLUSHED: True}).begin() as connection:
            await connection.execute(text("INSERT INTO marks (n) VALUES (1)"))
            raise RuntimeError("the broker went away")
    except RuntimeError:
        pass
    async with engine.begin() as connection:
        after = await flush_setting(connection)
        count = await connection.scalar(text("SELECT count(*) FROM marks"))
    assert (after, count) == ("full" if engine.dialect.name == "sqlite" else "on", 0)
