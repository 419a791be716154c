"""One relay per outbox at a time.

Several replicas of a service on one PostgreSQL database share one outbox. If each of
them relayed it, every row would reach Kafka once per replica. The replicas therefore
compete for a *relay lease*: a session-level advisory lock (``pg_try_advisory_lock``)
held on a connection of its own. The holder relays; the others stand by and try again
every ``poll`` seconds; meanwhile their commits reach the holder as a ``NOTIFY`` on the
lease's channel, which wakes its relay at once. The lock belongs to the database session, so it goes when the
holder goes: a process that stops or is killed closes its socket, PostgreSQL ends the
session and frees the lock, and a standby takes it at its next try. A holder whose
machine vanishes without closing the socket is found by TCP keepalives on the lease's
session (about ``KEEPALIVE_IDLE + KEEPALIVE_INTERVAL * KEEPALIVE_COUNT`` seconds).

The lease only saves duplicates; it is not what makes effects exactly-once (the
consumers' inboxes are). A holder checks its session at most every ``poll`` seconds, so
if that session alone dies, two relays may overlap that long: rows published twice,
still in id order for each key.

SQLite takes one worker per database file; ``claim_sqlite_file`` refuses a second one.
"""

import fcntl
import hashlib
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Protocol

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)

KEEPALIVE_IDLE, KEEPALIVE_INTERVAL, KEEPALIVE_COUNT = 5, 2, 3


class RelayLease(Protocol):
    """Whether this instance may relay its service's outbox now."""

    poll: float

    @property
    def held(self) -> bool: ...

    async def hold(self) -> bool:
        """Take the lease if it is free, confirm it if held; whether this instance holds it."""
        ...

    async def release(self) -> None: ...

    def on_nudge(self, wake: Callable[[], None]) -> None:
        """While this instance holds the lease, call ``wake`` when a standby committed outbox rows."""
        ...

    async def nudge(self) -> None:
        """A standby committed outbox rows: tell the holder."""
        ...


class SoleRelay:
    """No lease: this instance always relays (SQLite, one worker per file; or the lease turned off)."""

    poll = 1.0
    held = True

    async def hold(self) -> bool:
        return True

    async def release(self) -> None:
        """Nothing to give back."""

    def on_nudge(self, wake: Callable[[], None]) -> None:
        """Nobody else commits to this outbox."""

    async def nudge(self) -> None:
        """Nobody else relays."""


class AdvisoryLease:
    """The relay lease of one outbox on PostgreSQL: a session advisory lock."""

    def __init__(self, engine: AsyncEngine, name: str, poll: float = 0.5) -> None:
        self.name = name
        self.poll = poll
        self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._key = advisory_key(name)
        self._connection: AsyncConnection | None = None
        self._held = False
        self._confirmed_at = 0.0
        self._wake: Callable[[], None] = lambda: None

    @property
    def held(self) -> bool:
        return self._held

    async def hold(self) -> bool:
        if self._held and time.monotonic() - self._confirmed_at < self.poll:
            return True
        try:
            connection = self._connection or await self._connect()
            if self._held:
                await connection.execute(select(1))
            else:
                self._held = bool(await connection.scalar(select(func.pg_try_advisory_lock(self._key))))
                if self._held:
                    await self._listen(connection)
                    log.info("took the relay lease of %s: this instance relays the outbox", self.name)
        except Exception:
            if self._held:
                log.warning("lost the relay lease of %s: its database session is gone", self.name)
            await self.release()
            raise
        self._confirmed_at = time.monotonic()
        return self._held

    async def release(self) -> None:
        """End the lease's session, which frees the lock (as a crash would)."""
        connection, self._connection, self._held = self._connection, None, False
        if connection is not None:
            try:
                await connection.invalidate()
                await connection.close()
            except Exception as error:  # noqa: BLE001 - the session is gone either way
                log.debug("relay lease connection closed with %s", error)

    def on_nudge(self, wake: Callable[[], None]) -> None:
        self._wake = wake

    async def nudge(self) -> None:
        if self._connection is not None:
            await self._connection.execute(select(func.pg_notify(self.name, "")))

    async def _listen(self, connection: AsyncConnection) -> None:
        """Standbys' nudges arrive on the lease's session (asyncpg calls back on the event loop)."""
        driver: Any = (await connection.get_raw_connection()).driver_connection
        await driver.add_listener(self.name, self._nudged)

    def _nudged(self, *_notification: Any) -> None:
        self._wake()

    async def _connect(self) -> AsyncConnection:
        connection = await self._engine.connect()
        try:
            for setting, seconds in (
                ("tcp_keepalives_idle", KEEPALIVE_IDLE),
                ("tcp_keepalives_interval", KEEPALIVE_INTERVAL),
                ("tcp_keepalives_count", KEEPALIVE_COUNT),
            ):
                await connection.execute(text(f"SET {setting} = {seconds}"))
        except Exception:
            await connection.invalidate()
            raise
        self._connection = connection
        return connection


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for ``name`` (advisory locks are per database already)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def relay_lease(engine: AsyncEngine, service: str, *, enabled: bool = True, poll: float = 0.5) -> RelayLease:
    """The lease of ``service``'s outbox: an advisory lock on PostgreSQL, none on SQLite."""
    if enabled and engine.dialect.name == "postgresql":
        return AdvisoryLease(engine, f"tienda.{service}.outbox-relay", poll)
    return SoleRelay()


class AnotherWorkerRunning(SystemExit):
    """A second worker was started on a SQLite file that a worker already uses."""


def claim_sqlite_file(url: str, service: str) -> IO[str] | None:
    """Lock ``<database>.worker-lock`` for the life of this process when ``url`` is a SQLite file.

    Two workers on one SQLite file would each relay the same outbox rows; the second one
    stops at start instead. The OS drops the lock when the process ends, even by SIGKILL.
    None (nothing to hold) for PostgreSQL and in-memory databases."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    path = Path(f"{parsed.database}.worker-lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise AnotherWorkerRunning(
            f"another {service} worker (pid {holder}) already runs on {parsed.database}: SQLite takes one "
            f"worker per database file. Stop it, or run replicas on PostgreSQL "
            f"(TIENDA_{service.upper()}_DATABASE_URL=postgresql+asyncpg://...)."
        ) from None
    handle.truncate(0)
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle
