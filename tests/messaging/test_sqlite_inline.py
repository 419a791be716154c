"""SQLite on the loop's thread: no helper thread, writers of one process queue without blocking it."""

import asyncio
import inspect
import sqlite3
import threading
from pathlib import Path

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tienda.messaging.database import READ_ONLY, create_engine
from tienda.messaging.errors import is_transient
from tienda.messaging.sqlite_inline import InlineConnection, WriteLock


@pytest.fixture
async def sqlite(tmp_path: Path) -> AsyncEngine:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'inline.db'}")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE rows (n INTEGER PRIMARY KEY, writer TEXT)"))
    yield engine
    await engine.dispose()


async def test_statements_run_on_the_event_loop_thread_without_a_helper_thread(sqlite):
    before = threading.active_count()
    async with sqlite.begin() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
        await connection.execute(text("INSERT INTO rows (writer) VALUES ('a')"))
    assert isinstance(driver, InlineConnection)
    assert threading.active_count() == before


async def test_two_writers_of_one_process_take_turns_while_the_loop_keeps_running(sqlite):
    first_holds, release_first = asyncio.Event(), asyncio.Event()
    order: list[str] = []
    ticks = 0

    async def first() -> None:
        async with sqlite.begin() as connection:
            await connection.execute(text("INSERT INTO rows (writer) VALUES ('first')"))
            first_holds.set()
            await release_first.wait()  # awaits something else inside its write transaction
            order.append("first committed")

    async def second() -> None:
        await first_holds.wait()
        async with sqlite.begin() as connection:
            order.append("second began")
            await connection.execute(text("INSERT INTO rows (writer) VALUES ('second')"))

    async def ticker() -> None:
        nonlocal ticks
        while not release_first.is_set():
            ticks += 1
            await asyncio.sleep(0.01)

    tasks = [asyncio.create_task(first()), asyncio.create_task(second())]
    await first_holds.wait()
    await ticker_for(ticker, release_first, seconds=0.2)
    await asyncio.gather(*tasks)
    assert order == ["first committed", "second began"]
    assert ticks >= 5, "the loop stalled while the second writer waited"
    async with sqlite.connect() as connection:
        writers = (await connection.execute(text("SELECT writer FROM rows ORDER BY n"))).scalars().all()
    assert writers == ["first", "second"]


async def ticker_for(ticker, release: asyncio.Event, seconds: float) -> None:
    task = asyncio.create_task(ticker())
    await asyncio.sleep(seconds)
    release.set()
    await task


async def test_a_reader_is_not_held_up_by_a_writer_of_the_same_process(sqlite):
    async with sqlite.begin() as writer:
        await writer.execute(text("INSERT INTO rows (writer) VALUES ('uncommitted')"))
        reader_engine = sqlite.execution_options(**{READ_ONLY: True})
        async with reader_engine.connect() as reader:
            seen = await asyncio.wait_for(reader.scalar(text("SELECT count(*) FROM rows")), 1)
    assert seen == 0


async def test_a_rolled_back_writer_lets_the_next_one_in(sqlite):
    async def failing_writer() -> None:
        async with sqlite.begin() as connection:
            await connection.execute(text("INSERT INTO rows (writer) VALUES ('gone')"))
            raise RuntimeError("handler failed")

    with pytest.raises(RuntimeError):
        await failing_writer()
    async with asyncio.timeout(1):
        async with sqlite.begin() as connection:
            await connection.execute(text("INSERT INTO rows (writer) VALUES ('next')"))


async def test_a_writer_held_up_too_long_fails_like_sqlite_would_and_names_the_file(tmp_path):
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'slow.db'}")
    try:
        async with engine.begin() as connection:
            driver = (await connection.get_raw_connection()).driver_connection
            driver._write_lock.timeout = 0.2  # the 10 s busy timeout, shortened
            async with engine.connect() as second:
                with pytest.raises(sqlite3.OperationalError, match=r"database is locked: .*slow\.db") as raised:
                    await second.begin()
        assert is_transient(raised.value), "the processor retries it rather than dead-lettering the message"
    finally:
        await engine.dispose()


async def test_the_write_lock_error_is_sqlites_own_error_class():
    lock = WriteLock("/tmp/x.db", timeout=0.05)
    await lock.acquire()
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        await lock.acquire()
    lock.release()


def test_the_private_parts_of_aiosqlite_the_inline_connection_relies_on_are_as_written():
    """``InlineConnection`` replaces aiosqlite's queue to its helper thread (``_tx``), reads its
    ``_conn`` / ``_connection`` and skips ``__await__``'s thread start. An aiosqlite upgrade fails
    here first: re-read aiosqlite/core.py against sqlite_inline.py, then move the pin."""
    assert aiosqlite.__version__ == "0.22.1"
    source = inspect.getsource(aiosqlite.Connection)
    assert source.count("self._tx.put_nowait((future, ") == 3  # stop, _execute, _connect: every call
    assert "self._tx: _TxQueue = SimpleQueue()" in source
    assert "self._thread.start()" in inspect.getsource(aiosqlite.Connection.__await__)
    assert isinstance(inspect.getattr_static(aiosqlite.Connection, "_conn"), property)
    assert "self._connection" in inspect.getsource(aiosqlite.Connection._connect)
