"""The outbox relay: publishes committed outbox rows in order, marks them sent.

Rows are read in id order and sent in that order with an idempotent producer, so
messages about one account (one key, one partition) keep their order. A crash
between publishing and marking re-publishes those rows: consumers' inboxes remove
the duplicates. For the same reason the marks are committed without waiting for the
disk (``UNFLUSHED``): losing the last marks to a power failure only re-publishes.

The consumer of the same worker does not outrun the relay: before each batch it waits
(``keep_up``) while more than a limit of committed rows wait to be published. Without
that, a busy consumer starves the relay of the event loop and the outbox grows without
bound (bench/pipeline.py: 23,400 rows behind, 13 s from commit to Kafka, before this).

Replicas of a service on one PostgreSQL database share one outbox: only the holder of
its relay lease (``relay_lease``) relays it; the others stand by, and tell the holder
when they commit rows (``nudge``) so that it looks at once. A standby's consumer sees no
progress of its own relay, so while it stands by the relay recounts the shared backlog
from the database every lease poll and reports that as progress: its ``keep_up``
follows the holder's work instead of waiting for a relay that does not run.
"""

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from tienda.messaging.counters import Counters
from tienda.messaging.database import READ_ONLY, UNFLUSHED
from tienda.messaging.publisher import Publisher
from tienda.messaging.relay_lease import RelayLease, SoleRelay
from tienda.messaging.tables import MessagingTables

log = logging.getLogger(__name__)


class OutboxRelay:
    """Moves the outbox to Kafka; backs off while the broker is away and catches up after."""

    def __init__(
        self,
        engine: AsyncEngine,
        tables: MessagingTables,
        publisher: Publisher,
        counters: Counters,
        batch_size: int = 500,
        idle_poll: float = 1.0,
        max_backoff: float = 5.0,
        lease: RelayLease | None = None,
    ) -> None:
        self._reader = engine.execution_options(**{READ_ONLY: True})
        self._marker = engine.execution_options(**{UNFLUSHED: True})
        self._outbox = outbox = tables.outbox
        # Built once: SQLAlchemy finds them compiled by identity instead of rebuilding them each round.
        self._unsent = (
            select(outbox.c.id, outbox.c.topic, outbox.c.key, outbox.c.value)
            .where(outbox.c.published_at.is_(None))
            .order_by(outbox.c.id)
            .limit(batch_size)
        )
        self._unsent_unmarked = self._unsent.where(outbox.c.id.not_in(bindparam("marking", expanding=True)))
        """While a round's mark is being written: the unsent rows but that round's."""
        self._mark_sent = (
            update(outbox)
            .where(outbox.c.id.in_(bindparam("ids", expanding=True)))
            .values(published_at=bindparam("sent_at"))
        )
        self._publisher = publisher
        self._counters = counters
        self._batch_size = batch_size
        self._idle_poll = idle_poll
        self._max_backoff = max_backoff
        self._wake = asyncio.Event()
        self._lease = lease or SoleRelay()
        self._lease.on_nudge(self._wake.set)
        self._progress = asyncio.Event()
        self._mark: asyncio.Task[None] | None = None
        self._marking: set[int] = set()
        """Ids of the rows sent whose mark is being written: not read again meanwhile."""
        self.pending = 0
        """Rows committed by this process and not yet published (an estimate the relay corrects)."""

    def wake(self, committed: int = 0) -> None:
        """Rows were committed to the outbox: look now rather than at the next poll."""
        self.pending += committed
        self._wake.set()

    async def keep_up(self, limit: int, recount_every: float = 1.0) -> None:
        """Return once at most ``limit`` committed rows wait for the relay.

        The count is recounted in the database when the relay shows no progress for
        ``recount_every`` seconds (rows another instance published, a restart's backlog)."""
        while self.pending > limit:
            self._progress.clear()
            try:
                async with asyncio.timeout(recount_every):
                    await self._progress.wait()
            except TimeoutError:
                try:
                    self.pending = await self.backlog()
                except Exception as error:  # noqa: BLE001 - the database is away: the consumer will find out
                    log.warning("outbox backlog unknown while waiting for the relay: %s", error)
                    return

    @property
    def leader(self) -> bool:
        """Whether this instance relays the outbox now (holds its relay lease)."""
        return self._lease.held

    async def run(self) -> None:
        """Relay while this instance holds the lease, stand by while another does; until
        cancelled, then give the lease back."""
        backoff = 0.1
        try:
            while True:
                try:
                    if not await self._lease.hold():
                        await self._marked()
                        await self._stand_by()
                        continue
                    sent = await self.relay_batch()
                    if not sent:  # nothing left (a full or partial round counts when its mark is written)
                        self.pending = 0
                        self._progress.set()
                    backoff = 0.1
                except Exception as error:  # noqa: BLE001 - broker or database away: wait and retry
                    self._counters.publish_failures += 1
                    log.warning("outbox relay paused %.1fs: %s", backoff, error)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, self._max_backoff)
                    continue
                if sent < self._batch_size:
                    await self._wait_for_work()
        finally:
            with contextlib.suppress(Exception):
                await self._marked()  # cancelled while writing: those rows are published again after a restart
            await self._lease.release()

    async def _stand_by(self) -> None:
        """Another instance relays: correct what this one's consumer waits for and, until the
        next try at the lease, point the holder at the rows this one commits."""
        if self.pending:
            self.pending = await self.backlog()
            self._progress.set()
        next_try = time.monotonic() + self._lease.poll
        while (left := next_try - time.monotonic()) > 0:
            if await self._woken_within(left):
                await self._lease.nudge()

    async def _wait_for_work(self) -> None:
        await self._woken_within(self._idle_poll)

    async def _woken_within(self, seconds: float) -> bool:
        """Whether rows were committed (``wake``) within ``seconds``."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._wake.wait()
        woken = self._wake.is_set()
        self._wake.clear()
        return woken

    async def relay_batch(self) -> int:
        """Publish the oldest unsent rows (not those whose mark is still being written) and have
        them marked sent behind this call: the next round reads, sends and waits for its acks while
        this one's mark is written. How many were sent; with none left, once every mark is written."""
        async with self._reader.connect() as connection:
            if self._marking:
                rows = (await connection.execute(self._unsent_unmarked, {"marking": list(self._marking)})).all()
            else:
                rows = (await connection.execute(self._unsent)).all()
        if not rows:
            await self._marked()
            return 0
        deliveries = [await self._publisher.send(row.topic, row.key, row.value) for row in rows]
        await asyncio.gather(*deliveries)
        await self._marked()  # the previous round's mark, long written by now (its failure surfaces here)
        self._counters.published += len(rows)
        ids = [row.id for row in rows]
        self._marking = set(ids)
        self._mark = asyncio.create_task(self._mark_sent_rows(ids, len(rows) == self._batch_size), name="outbox-marks")
        return len(rows)

    async def _mark_sent_rows(self, ids: list[int], full: bool) -> None:
        async with self._marker.begin() as connection:
            await connection.execute(self._mark_sent, {"ids": ids, "sent_at": datetime.now(UTC)})
        self.pending = max(self.pending - len(ids), 0) if full else 0
        self._progress.set()

    async def _marked(self) -> None:
        """Wait for the mark being written; raise what failed it (those rows are read and sent again)."""
        mark, self._mark = self._mark, None
        try:
            if mark is not None:
                await mark
        finally:
            self._marking = set()

    async def backlog(self) -> int:
        """Rows committed but not yet published."""
        async with self._reader.connect() as connection:
            count = await connection.scalar(
                select(func.count()).select_from(self._outbox).where(self._outbox.c.published_at.is_(None))
            )
        return int(count or 0)
