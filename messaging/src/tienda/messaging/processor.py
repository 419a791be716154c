"""What happens to each consumed record: decode, deduplicate, handle in one
transaction, retry what is transient, dead-letter what is permanent."""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from tienda.contracts.envelope import Envelope, EnvelopeHeader
from tienda.contracts.messages.operations import Result
from tienda.messaging.codec import decode_header, typed
from tienda.messaging.counters import Counters
from tienda.messaging.dead_letters import DeadLetters, Failure
from tienda.messaging.errors import PermanentFailure, is_transient
from tienda.messaging.records import Record
from tienda.messaging.tracing import processing
from tienda.messaging.unit_of_work import Delivery, UnitOfWork

log = logging.getLogger(__name__)

Handler = Callable[[Envelope[Any], UnitOfWork], Awaitable[None]]
"""Handles one message in the unit of work's transaction."""


@dataclass(frozen=True)
class Batched:
    """A handler that takes a run of consecutive messages of its type(s) at once, in their order,
    in one transaction: it reads what the run needs in a few queries and writes each table once.
    Its effects must equal handling them one by one; a refusal is marked per message with
    ``uow.mark_rejected(envelope)``. The one-by-one path (retries) calls it with one message."""

    handle: Callable[[Sequence[Envelope[Any]], UnitOfWork], Awaitable[None]]


Handling = Handler | Batched

DEFAULT_RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0, 4.0, 8.0)

Outcome = Result


@dataclass(frozen=True)
class RetryPolicy:
    """Seconds to wait before each new attempt after a transient failure; then dead letter."""

    delays: Sequence[float] = DEFAULT_RETRY_DELAYS


@dataclass(frozen=True)
class Observation:
    """One record's outcome, for the outcomes topic and the metrics."""

    record: Record
    envelope: EnvelopeHeader | None
    outcome: Outcome
    seconds: float
    reason: str | None = None


async def _unobserved(_: Observation) -> None:
    return None


class MessageProcessor:
    """Turns one record into exactly one effect, or one dead letter."""

    def __init__(
        self,
        handlers: Mapping[str, Handling],
        unit_of_work: Callable[[], UnitOfWork],
        dead_letters: DeadLetters,
        counters: Counters,
        retry: RetryPolicy = RetryPolicy(),
        observe: Callable[[Observation], Awaitable[None]] = _unobserved,
    ) -> None:
        self._handlers = handlers
        self._unit_of_work = unit_of_work
        self._dead_letters = dead_letters
        self._counters = counters
        self._retry = retry
        self._observe = observe

    async def process(self, record: Record) -> Outcome:
        self._counters.consumed += 1
        return await self._process(record, time.perf_counter())

    async def process_batch(self, records: Sequence[Record]) -> list[Outcome]:
        """Many records, their effects in one transaction; a batch that fails is handled one by one.

        Equivalent to ``process`` for each record in order, with one commit (one fsync)
        instead of one per message: poison is set aside first, a duplicate within the batch
        is seen by the inbox of the same transaction, and any failure rolls the batch back
        and hands each message to the one-by-one path with its retries and dead letters."""
        started = time.perf_counter()
        self._counters.consumed += len(records)
        outcomes: dict[int, Outcome] = {}
        batch: list[tuple[int, Record, Envelope[Any]]] = []
        for index, record in enumerate(records):
            try:
                header = decode_header(record.value, record.key, record.topic)
                if header.type not in self._handlers:
                    outcomes[index] = self._ignored()
                    continue
                envelope = typed(header)
            except PermanentFailure:
                outcomes[index] = await self._process(record, started)
                continue
            batch.append((index, record, envelope))
        if batch:
            outcomes |= await self._handle_batch(batch, started)
        return [outcomes[index] for index in range(len(records))]

    async def _handle_batch(self, batch: list[tuple[int, Record, Envelope[Any]]], started: float) -> dict[int, Outcome]:
        try:
            outcomes = await self._attempt_batch(batch)
        except Exception as error:  # noqa: BLE001 - the one-by-one path classifies it
            log.info(
                "batch of %d rolled back (%s: %s); handling its messages one by one",
                len(batch),
                type(error).__name__,
                error,
            )
            return {index: await self._process(record, started) for index, record, _ in batch}
        seconds = time.perf_counter() - started
        for index, record, envelope in batch:
            outcome = outcomes[index]
            if outcome is Outcome.DEDUPLICATED:
                self._counters.deduplicated += 1
            else:
                self._counters.processed += 1
                self._counters.rejected += outcome is Outcome.REJECTED
            await self._observe(Observation(record, envelope, outcome, seconds))
        return outcomes

    async def _attempt_batch(self, batch: list[tuple[int, Record, Envelope[Any]]]) -> dict[int, Outcome]:
        outcomes: dict[int, Outcome] = {}
        async with self._unit_of_work() as uow:
            seen = await uow.processed_among(envelope.event_id for _, _, envelope in batch)
            fresh: list[tuple[int, Record, Envelope[Any]]] = []
            for index, record, envelope in batch:
                event_id = str(envelope.event_id)
                if event_id in seen:
                    outcomes[index] = Outcome.DEDUPLICATED
                    continue
                seen.add(event_id)  # a second copy later in this batch is a duplicate
                fresh.append((index, record, envelope))
            for run in _runs(fresh, self._handlers):
                await asyncio.sleep(0)  # SQLite runs inline: let the loop breathe between steps
                outcomes |= await self._handle_run(run, uow)
            await uow.commit()
        return outcomes

    async def _handle_run(self, run: list[tuple[int, Record, Envelope[Any]]], uow: UnitOfWork) -> dict[int, Outcome]:
        """One message with its handler, or a run of one type with its batched handler."""
        handler = self._handlers[run[0][2].type]
        uow.rejected = False
        if isinstance(handler, Batched):
            _, first, envelope = run[0]
            with processing(uow.service, envelope, first, len(run)):
                await handler.handle([envelope for _, _, envelope in run], uow)
            uow.rejected = False  # a batched handler names each message it refuses
        else:
            [(_, first, envelope)] = run
            with processing(uow.service, envelope, first):
                await handler(envelope, uow)
        outcomes = {}
        for index, record, envelope in run:
            await uow.mark_processed(envelope, Delivery(record.topic, record.partition, record.offset))
            outcomes[index] = Outcome.REJECTED if uow.was_rejected(envelope) else Outcome.PROCESSED
        return outcomes

    async def _process(self, record: Record, started: float) -> Outcome:
        envelope: EnvelopeHeader | None = None
        first_failure_at: datetime | None = None
        for attempt in range(1, len(self._retry.delays) + 2):
            try:
                envelope = header = decode_header(record.value, record.key, record.topic)
                if header.type not in self._handlers:
                    return self._ignored()
                envelope = typed(header)
                outcome = await self._attempt(record, envelope)
                await self._observe(Observation(record, envelope, outcome, time.perf_counter() - started))
                return outcome
            except Exception as error:  # noqa: BLE001 - every failure is classified below
                first_failure_at = first_failure_at or datetime.now(UTC)
                if not is_transient(error) or attempt > len(self._retry.delays):
                    failure = Failure(error, attempt, first_failure_at)
                    outcome = await self._give_up(record, failure)
                    reason = f"{failure.error_class}: {error}"[:500]
                    await self._observe(Observation(record, envelope, outcome, time.perf_counter() - started, reason))
                    return outcome
                log.warning("%s failed (attempt %d, will retry): %s", record.position, attempt, error)
                self._counters.retried += 1
                await asyncio.sleep(self._retry.delays[attempt - 1])
        raise AssertionError("unreachable: the last attempt either returns or gives up")

    def _ignored(self) -> Outcome:
        """A type this service does not handle: counted (``tienda_messages_ignored_total``), its payload
        never validated, and no outcome record (most of what a service reads is not for it)."""
        self._counters.ignored += 1
        return Outcome.IGNORED

    async def _attempt(self, record: Record, envelope: Envelope[Any]) -> Outcome:
        async with self._unit_of_work() as uow:
            if await uow.already_processed(envelope.event_id):
                return self._deduplicated(record, envelope)
            await self._handle_run([(0, record, envelope)], uow)
            try:
                await uow.commit()
            except IntegrityError:
                if await self._processed_elsewhere(envelope):
                    return self._deduplicated(record, envelope)
                raise
        self._counters.processed += 1
        if uow.was_rejected(envelope):
            self._counters.rejected += 1
            return Outcome.REJECTED
        return Outcome.PROCESSED

    async def _processed_elsewhere(self, envelope: Envelope[Any]) -> bool:
        """A concurrent instance committed the same event id first."""
        async with self._unit_of_work() as uow:
            return await uow.already_processed(envelope.event_id)

    def _deduplicated(self, record: Record, envelope: Envelope[Any]) -> Outcome:
        log.info("%s %s %s already processed; skipped", record.position, envelope.type, envelope.event_id)
        self._counters.deduplicated += 1
        return Outcome.DEDUPLICATED

    async def _give_up(self, record: Record, failure: Failure) -> Outcome:
        permanent = isinstance(failure.error, PermanentFailure)
        log.log(
            logging.WARNING if permanent else logging.ERROR,
            "%s dead-lettered after %d attempt(s): %s: %s",
            record.position,
            failure.attempts,
            failure.error_class,
            failure.error,
            exc_info=not permanent,
        )
        await self._dead_letters.send(record, failure)
        self._counters.dead_lettered += 1
        return Outcome.DEAD_LETTERED


def _runs(
    batch: list[tuple[int, Record, Envelope[Any]]], handlers: Mapping[str, Handling]
) -> Iterator[list[tuple[int, Record, Envelope[Any]]]]:
    """The batch in order: each message alone, but consecutive messages handled by one batched
    handler together (it may take several types: the advisor's timeline notes)."""
    run: list[tuple[int, Record, Envelope[Any]]] = []
    for item in batch:
        handler = handlers[item[2].type]
        if run and isinstance(handler, Batched) and handlers[run[0][2].type] is handler:
            run.append(item)
            continue
        if run:
            yield run
        run = [item]
    if run:
        yield run
