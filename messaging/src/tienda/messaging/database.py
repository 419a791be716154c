"""Engines for a service database: SQLite by default, PostgreSQL in production."""

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.util import await_

from tienda.messaging.sqlite_inline import InlineConnection, inline_creator

SQLITE_BUSY_TIMEOUT_MS = 10_000
READ_ONLY = "tienda_read_only"
"""Execution option of a connection that only reads: on SQLite it does not queue for the write lock."""
UNFLUSHED = "tienda_unflushed"
"""Execution option of a write transaction that is harmless to lose if the machine fails, because
it is redone (the relay's "published" marks: a lost mark publishes the row again, and inboxes
drop the copy). Its commit does not wait for the disk: SQLite ``synchronous=OFF`` for that
transaction, PostgreSQL ``synchronous_commit = off``. A crash of the process loses nothing;
only a power or kernel failure can, and never out of order."""


def create_engine(url: str) -> AsyncEngine:
    """An async engine; SQLite gets WAL, a busy timeout, write transactions that lock at BEGIN,
    and (for a file) statements run on the event loop's thread (see ``sqlite_inline``)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        engine = create_async_engine(url, pool_size=5, max_overflow=5, pool_pre_ping=True)
        _let_postgresql_skip_the_flush(engine)
        return engine
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        creator = inline_creator(parsed.database, SQLITE_BUSY_TIMEOUT_MS / 1000)
        engine = create_async_engine(url, async_creator=creator)
    else:
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
    _serialize_sqlite_writers(engine)
    return engine


def _serialize_sqlite_writers(engine: AsyncEngine) -> None:
    """BEGIN IMMEDIATE: a transaction takes the write lock up front, so two writers
    queue on the busy timeout instead of failing when a reader turns writer."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        options = connection.get_execution_options()
        if options.get(READ_ONLY, False):
            connection.exec_driver_sql("BEGIN")
            return
        driver = connection.connection.driver_connection
        if isinstance(driver, InlineConnection):
            await_(driver.begin_write(flushed=not options.get(UNFLUSHED, False)))
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def _let_postgresql_skip_the_flush(engine: AsyncEngine) -> None:
    """An UNFLUSHED transaction does not wait for its WAL to reach disk."""

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(UNFLUSHED, False):
            connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)
