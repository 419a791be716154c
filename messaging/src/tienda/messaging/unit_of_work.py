"""One database transaction per message (or per batch): the state change, the event ids
it processed (inbox) and the messages it emits (outbox), committed together.

Inbox and outbox rows are kept in memory until ``commit`` and written then, each table in
one multi-row INSERT in the order they were added: a batch of a hundred carts costs two
statements for them instead of four hundred. The outbox's ids keep the emit order."""

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tienda.contracts.envelope import Envelope, EnvelopeHeader, EventPayload, new_envelope
from tienda.contracts.topics import topic_for
from tienda.messaging.clock import Clock, system_clock
from tienda.messaging.codec import encode
from tienda.messaging.tables import MessagingTables
from tienda.messaging.tracing import current_trace_parent


@dataclass(frozen=True)
class Delivery:
    """Where a consumed message came from."""

    topic: str
    partition: int
    offset: int


class UnitOfWork:
    """A transaction of one service. Use as ``async with``; nothing is kept without ``commit``.

    ``now`` is the worker's clock read when the transaction began: every row a transaction
    writes carries the same moment, and tests set it by giving the worker another clock."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        tables: MessagingTables,
        service: str,
        on_commit: Callable[[int], None] = lambda emitted: None,
        clock: Clock = system_clock,
    ) -> None:
        self._sessions = sessions
        self._tables = tables
        self.service = service
        self._on_commit = on_commit
        self._clock = clock
        self.now: datetime = clock()
        self._session: AsyncSession | None = None
        self._inbox_rows: list[dict[str, Any]] = []
        self._outbox_rows: list[dict[str, Any]] = []
        self._known: set[str] = set()
        self._before_commit: dict[Hashable, Callable[[], Awaitable[None]]] = {}
        self.rejected = False
        self._rejected_ids: set[str] = set()

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("unit of work used outside `async with`")
        return self._session

    async def __aenter__(self) -> Self:
        self.now = self._clock()
        self._session = self._sessions()
        await self._session.begin()
        self._inbox_rows, self._outbox_rows, self._known = [], [], set()
        self._before_commit = {}
        self._rejected_ids = set()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.session.rollback()
        await self.session.close()
        self._session = None

    def mark_rejected(self, envelope: EnvelopeHeader | None = None) -> None:
        """The handler refused the request on a business rule (and emitted the refusal). A batched
        handler names the message; a one-message handler need not."""
        if envelope is None:
            self.rejected = True
        else:
            self._rejected_ids.add(str(envelope.event_id))

    def was_rejected(self, envelope: EnvelopeHeader) -> bool:
        return self.rejected or str(envelope.event_id) in self._rejected_ids

    def before_commit(self, key: Hashable, action: Callable[[], Awaitable[None]]) -> None:
        """Run ``action`` when this transaction commits, once per ``key``: a later action with the
        same key replaces the earlier one. For what only the last state is worth publishing
        (a snapshot on a compacted topic): a batch of ten carts of one account publishes one."""
        self._before_commit.pop(key, None)
        self._before_commit[key] = action

    def before_commit_action(self, key: Hashable) -> Callable[[], Awaitable[None]] | None:
        """The action registered under ``key`` for this transaction's commit, if any (to add to it)."""
        return self._before_commit.get(key)

    async def commit(self) -> None:
        """Run the before-commit actions, write the inbox and outbox rows, commit; wake the relay
        if anything was emitted. The event loop's other work runs between two actions (a batch
        that publishes many snapshots does not hold the loop for all of them at once)."""
        while self._before_commit:
            key = next(iter(self._before_commit))
            await self._before_commit.pop(key)()
            if self._before_commit:
                await asyncio.sleep(0)
        emitted = len(self._outbox_rows)
        if self._inbox_rows:
            await self.session.execute(insert(self._tables.inbox), self._inbox_rows)
        if self._outbox_rows:
            await self.session.execute(insert(self._tables.outbox), self._outbox_rows)
        self._inbox_rows, self._outbox_rows = [], []
        await self.session.commit()
        if emitted:
            self._on_commit(emitted)

    async def already_processed(self, event_id: Any) -> bool:
        """Whether this event id was handled before by this service (or earlier in this transaction)."""
        return bool(await self.processed_among([event_id]))

    async def processed_among(self, event_ids: Iterable[Any]) -> set[str]:
        """Which of these event ids were handled before (or earlier in this transaction), in one query."""
        wanted = {str(event_id) for event_id in event_ids}
        known = wanted & self._known
        unknown = wanted - known
        if unknown:
            inbox = self._tables.inbox
            found = await self.session.execute(select(inbox.c.event_id).where(inbox.c.event_id.in_(unknown)))
            known |= set(found.scalars())
        return known

    async def mark_processed(self, envelope: EnvelopeHeader, delivery: Delivery) -> None:
        """Record the event id (written at commit); a second insert of it fails the commit."""
        event_id = str(envelope.event_id)
        self._known.add(event_id)
        self._inbox_rows.append(
            {
                "event_id": event_id,
                "message_type": envelope.type,
                "topic": delivery.topic,
                "partition": delivery.partition,
                "offset": delivery.offset,
                "processed_at": self.now,
            }
        )

    async def emit(
        self,
        payload: EventPayload,
        *,
        account_id: str,
        cause: EnvelopeHeader | None = None,
        trace_parent: str | None = None,
    ) -> Envelope[Any]:
        """Put a message in the outbox (written at commit); the relay publishes it once committed.
        Its trace parent is the current span's unless ``trace_parent`` is given."""
        envelope = new_envelope(
            payload,
            account_id=account_id,
            producer=self.service,
            cause=cause,
            trace_parent=trace_parent or current_trace_parent(),
            occurred_at=self.now,
        )
        self._outbox_rows.append(
            {
                "event_id": str(envelope.event_id),
                "topic": topic_for(envelope.type, self.service).name,
                "key": account_id,
                "message_type": envelope.type,
                "value": encode(envelope),
                "created_at": self.now,
            }
        )
        return envelope
