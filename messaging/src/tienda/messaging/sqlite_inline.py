"""SQLite run on the event loop's own thread, behind aiosqlite's API.

aiosqlite hands every statement to a helper thread and waits for the answer: two thread
switches per statement. A cart is about fifteen statements, and those switches cost more
than the statements (bench/handlers.py: 88 carts/s through aiosqlite's thread, 258/s inline,
same statements). SQLite answers a local file in microseconds, so the workers run it inline:
the same ``aiosqlite.Connection`` that SQLAlchemy's aiosqlite dialect drives, with each call
run at once instead of queued. A statement blocks the loop while it runs: microseconds, a
commit's fsync about a millisecond, a WAL checkpoint a few.

Blocking is only safe if no statement ever waits for a lock another coroutine of the same
process holds, so write transactions of one process queue on an ``asyncio.Lock`` (taken
before ``BEGIN IMMEDIATE``, given back at commit, rollback or close) and wait for it without
blocking the loop. Writers in other processes (a CLI, a second worker on the same file) still
meet SQLite's busy timeout, which then blocks the loop for as long as they hold the file.
Readers (``BEGIN`` deferred, WAL) never wait.
"""

import asyncio
import sqlite3
from collections.abc import Callable
from typing import Any

import aiosqlite


class WriteLock:
    """The write lock of one database file within this process, waited for without blocking."""

    def __init__(self, path: str, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        self._locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}

    def _lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            self._locks = {known: held for known, held in self._locks.items() if not known.is_closed()}
            lock = self._locks[loop] = asyncio.Lock()
        return lock

    async def acquire(self) -> None:
        try:
            async with asyncio.timeout(self.timeout):
                await self._lock().acquire()
        except TimeoutError:
            raise sqlite3.OperationalError(
                f"database is locked: another write transaction of this process held {self.path} "
                f"for {self.timeout:g}s; it is retried (a handler that awaits something else "
                "inside its transaction holds every writer of the process up)"
            ) from None

    def release(self) -> None:
        self._lock().release()


class _RunNow:
    """Stands in for aiosqlite's queue to its helper thread: runs each call as it is queued."""

    def put_nowait(self, item: tuple["asyncio.Future[Any] | None", Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as error:  # noqa: BLE001 - handed to the awaiting caller, as aiosqlite does
            if future is not None and not future.done():
                future.set_exception(error)
        else:
            if future is not None and not future.done():
                future.set_result(result)


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls run on the caller's thread; no helper thread is started."""

    def __init__(self, connector: Callable[[], sqlite3.Connection], write_lock: WriteLock) -> None:
        super().__init__(connector, iter_chunk_size=256)
        self._tx = _RunNow()  # type: ignore[assignment]
        self._write_lock = write_lock
        self._holds_write_lock = False
        self._unflushed = False

    def __await__(self) -> Any:
        return self._connect().__await__()

    async def begin_write(self, flushed: bool = True) -> None:
        """BEGIN IMMEDIATE once no other transaction of this process writes. With ``flushed``
        false the commit is not synced to disk (``synchronous=OFF`` until it ends)."""
        await self._write_lock.acquire()
        self._holds_write_lock = True
        try:
            if not flushed:
                self._conn.execute("PRAGMA synchronous=OFF")
                self._unflushed = True
            self._conn.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._release()
            raise

    async def commit(self) -> None:
        try:
            await super().commit()
        finally:
            self._release()

    async def rollback(self) -> None:
        try:
            await super().rollback()
        finally:
            self._release()

    async def close(self) -> None:
        try:
            await super().close()
        finally:
            self._release()

    def _release(self) -> None:
        if self._unflushed:
            self._unflushed = False
            if self._connection is not None:
                self._conn.execute("PRAGMA synchronous=FULL")
        if self._holds_write_lock:
            self._holds_write_lock = False
            self._write_lock.release()


def inline_creator(path: str, busy_timeout: float) -> Callable[[], InlineConnection]:
    """SQLAlchemy's ``async_creator`` for a database file: inline connections sharing one write lock."""
    write_lock = WriteLock(path, busy_timeout)

    def connector() -> sqlite3.Connection:
        return sqlite3.connect(path, timeout=busy_timeout, isolation_level=None)

    def create() -> InlineConnection:
        return InlineConnection(connector, write_lock)

    return create
