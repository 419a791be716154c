"""The reference: Tienda's durable work for a cart, written as plain code, to measure Tienda against.

    uv run python bench/reference.py SERVICE --bootstrap HOST:PORT --database URL --stats FILE
                                    [--group ID] [--batch 500] [--no-snapshots]

SERVICE is store, billing or advisor; URL is a SQLite file (``sqlite:///path``) or PostgreSQL
(``postgresql://user:pw@host:port/db``) whose schema the services' own Alembic migrations made
(``bench/pipeline.py`` runs them: the reference writes the same tables, with the same columns,
keys and indexes, as Tienda). bench/pipeline.py starts the three processes, on the same broker
and topics as Tienda's workers, in the same run, and prints Tienda ÷ reference.

What each process does (aiokafka, sqlite3 or asyncpg, the contract models; no FastStream, no
SQLAlchemy, no tienda.messaging):

* An aiokafka consumer in its own group (``reference-<service>-<run>``) on the topics the
  service consumes (``topics_consumed_by``), from the end of the topics at start (the same
  topics carry Tienda's earlier traffic), reading batches of up to ``--batch`` (500) records.
* Every record is validated as Tienda validates it: UTF-8 JSON object, the envelope
  (``RawEnvelope``, or for a handled type ``Envelope[<payload model>]`` of tienda.contracts,
  header and payload in ONE pass), a type the registry knows, a schema version not newer than
  the model's, the Kafka key equal to ``account_id``. What fails goes to
  ``tienda.deadletter.<service>`` (raw bytes, ``x-tienda-*`` headers), acknowledged before the
  offset may be committed. A type the service does not handle is validated as an envelope and
  skipped (no inbox row, as Tienda).
* Per batch ONE database transaction: SQLite in WAL with ``synchronous=FULL``, ``foreign_keys=ON``,
  ``BEGIN IMMEDIATE`` (Tienda's settings); PostgreSQL at its defaults (``synchronous_commit=on``),
  the store's account rows locked ``FOR UPDATE`` as Tienda's store locks them. In it:
  - the inbox: one query for which event ids were processed before, then one multi-row insert
    of the new ones (a duplicate, also within the batch, has no effect);
  - the state, read for the whole batch in a few set queries, decided in memory message by
    message in order, written once per table:
      store   ActivationRequested: the account (plan row, entitlements, pending reductions), the
              request id not activated before, the catalog version in force on the cart's day
              in Chile, the decision by the store's own domain (``tienda.store.domain``: decide,
              granted, Account), then the activation and its lines inserted, the account's
              revision and entitlements written (upsert of what changed), ActivationCompleted
              (with the entitlements after it) and ChargeScheduled in the outbox, or
              ActivationRejected. PlanContracted: the account opened or its plan changed
              (Account.contract/renew), pending reductions marked applied. Then one
              PlanSnapshot per account changed in the batch, as Tienda builds it (plan, counts,
              resources, pending reductions, the latest 20 activations with their lines, the
              total), from one windowed query for all those accounts.
      billing ChargeScheduled: the activation not recorded before, the billing account, each line
              a charge placed in the period of its effective date by billing's own domain
              (``tienda.billing.domain``: BillingAccount.period_of, months_per_period,
              open_account, change_plan, business_date), ``pending_renewal``; or
              ``waiting_for_plan`` while the account has no plan (placed when PlanContracted
              opens it). Written in its final state in one insert (Tienda inserts, then updates).
      advisor ActivationCompleted and ChargeScheduled: one timeline row each, the summary
              written by the advisor's own functions (``tienda.advisor.service_layer.summaries``),
              once per (account, kind, reference): ``INSERT ... ON CONFLICT DO NOTHING`` on the
              same unique index Tienda's advisor queries first.
  - the outbox rows (the contract models built and validated, ``new_envelope``, JSON as Tienda
    encodes it), in one multi-row insert.
* After the commit, the outbox rows are published in commit order by an idempotent producer
  (``acks=all``) and marked ``published_at`` in a transaction that does not wait for the disk
  (Tienda's UNFLUSHED marks), up to 500 rows at a time; rows left unpublished by a crash are
  published at start. The consumer waits while more than 1000 committed rows are unpublished
  (Tienda's back-pressure).
* Offsets of handled records are committed after their transaction, at most once a second, on a
  rebalance and at stop (Tienda's COMMIT_INTERVAL).
* After each batch a JSON line goes to ``--stats`` (commit time, counts, the carts the batch
  committed: the store's cart event ids, billing's charges by cart, and the milliseconds spent
  waiting for the relay, decoding and in the transaction): that is how the benchmark times the
  reference without adding Kafka traffic.

What it deliberately leaves out, and why:

* MessageOutcome per message, heartbeats, metrics, HTTP, logs with context, spans: operations
  telemetry, not durable state; Tienda sends outcomes without waiting for the broker. Tienda's
  figures include them (bench/pipeline.py times billing by its outcomes); the gap they cost is
  part of what phase 2 must explain.
* Publishing from the table: the relay sends the rows it just committed from memory instead of
  reading them back (``SELECT ... WHERE published_at IS NULL``); a restart still reads the table.
* The failure paths beyond the batch: a failing transaction is retried whole (0.2 s to 8 s)
  and then the process exits without committing offsets (the records come again); Tienda
  instead redoes the batch one message at a time and dead-letters the one that fails. Card
  numbers are not masked in dead letters. None of this runs on the benchmark's clean input.
* Message types and branches the benchmark never sends are not written: online carts (orders,
  UF conversion, IVA: billing's money rules), reductions, suspension, payments, billing data,
  commercial requests, module training follow-ups, BillingSnapshot (which Tienda's billing
  emits for PlanContracted and for charges waiting for a plan, but not for a charge at renewal
  of a known account: the measured path). Such a message stops the process with
  ``Unsupported`` rather than be skipped, so the reference can never do less than Tienda
  without saying so. At renewal, billing computes no amount when the charge arrives (neither
  does Tienda: the prorated pesos are computed on the renewal invoice).
* With ``--no-snapshots`` the store also leaves out the PlanSnapshots, to show what they cost.
"""

import argparse
import asyncio
import contextlib
import json
import signal
import sqlite3
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from pydantic import ValidationError

from tienda.advisor.service_layer import summaries
from tienda.billing.domain.accounts import BillingAccount, change_plan, open_account
from tienda.billing.domain.accounts import Plan as BillingPlan
from tienda.contracts.business_day import business_date
from tienda.contracts.envelope import Envelope, EnvelopeHeader, EventPayload, RawEnvelope, new_envelope
from tienda.contracts.messages.activation import (
    ActivationCompleted,
    ActivationRejected,
    ActivationRequested,
    ChargeScheduled,
    Entitlement,
    PricedLine,
    RejectedLine,
)
from tienda.contracts.messages.plans import BillingCycle, PlanContracted
from tienda.contracts.messages.store import (
    AccountStatus,
    ActivationRecord,
    PendingReduction,
    PlanCounts,
    PlanSnapshot,
    PlanSummary,
    ReducedLine,
    ResourceHolding,
)
from tienda.contracts.pricing.periods import Cycle, Period
from tienda.contracts.registry import UnknownMessageType, payload_class
from tienda.contracts.topics import dead_letter_topic, topic_for, topics_consumed_by
from tienda.contracts.types import PaymentMode, Person
from tienda.store.domain.activation import ActivatedItem, CartItem, decide, granted
from tienda.store.domain.catalog import UF_PLACES, Product
from tienda.store.domain.plan import (
    DTE_MONTHLY,
    LEGAL_ENTITIES,
    PAYROLL_WORKERS,
    USERS,
    Account,
    Holding,
    Plan,
    ReducedItem,
    Reduction,
    Status,
    baseline,
)

RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0, 4.0, 8.0)
COMMIT_INTERVAL = 1.0
RELAY_BATCH = 500
RELAY_LIMIT = 2 * RELAY_BATCH
SNAPSHOT_HISTORY = 20
SERVICES_ROOT = Path(__file__).resolve().parents[1] / "services"


class Unsupported(RuntimeError):
    """A message Tienda handles and the reference does not implement: stop rather than do less."""


class Poison(ValueError):
    """A record no consumer can read; it goes to the dead-letter topic."""


# =========================================================================== the database


class Tx(Protocol):
    async def fetch(self, sql: str, *args: Any) -> Sequence[Sequence[Any]]: ...
    async def execute(self, sql: str, *args: Any) -> None: ...
    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...


class Database(Protocol):
    """sqlite3 or asyncpg behind the few calls the reference makes, and how each stores values."""

    dialect: str

    def transaction(self, *, flushed: bool = True) -> contextlib.AbstractAsyncContextManager[Tx]: ...
    def sql(self, sqlite: str, postgresql: str | None = None) -> str: ...
    def ids(self, values: Iterable[str]) -> Any: ...
    def day(self, value: date) -> Any: ...
    def moment(self, value: datetime) -> Any: ...
    def uf(self, value: Decimal) -> Any: ...
    def read_day(self, value: Any) -> date: ...
    def read_moment(self, value: Any) -> datetime: ...
    async def close(self) -> None: ...


def read_uf(value: Any) -> Decimal:
    """A UF amount read back, exact to 4 decimals (SQLite keeps NUMERIC as a float)."""
    return Decimal(str(value)).quantize(UF_PLACES)


class SqliteTx:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._c = connection

    async def fetch(self, sql: str, *args: Any) -> Sequence[Sequence[Any]]:
        return self._c.execute(sql, args).fetchall()

    async def execute(self, sql: str, *args: Any) -> None:
        self._c.execute(sql, args)

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._c.executemany(sql, rows)


class Sqlite:
    """One sqlite3 connection on the event loop's thread (as Tienda runs SQLite inline): WAL,
    synchronous=FULL, foreign keys, BEGIN IMMEDIATE. No statement awaits, so a transaction never
    yields to another coroutine; a lock keeps the relay's marks out of the batch's transaction."""

    dialect = "sqlite"

    def __init__(self, path: str) -> None:
        self._c = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "busy_timeout=10000", "foreign_keys=ON"):
            self._c.execute(f"PRAGMA {pragma}")
        self._lock = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def transaction(self, *, flushed: bool = True) -> AsyncIterator[Tx]:
        async with self._lock:
            if not flushed:
                self._c.execute("PRAGMA synchronous=OFF")
            try:
                self._c.execute("BEGIN IMMEDIATE")
                try:
                    yield SqliteTx(self._c)
                except BaseException:
                    self._c.execute("ROLLBACK")
                    raise
                self._c.execute("COMMIT")
            finally:
                if not flushed:
                    self._c.execute("PRAGMA synchronous=FULL")

    def sql(self, sqlite: str, postgresql: str | None = None) -> str:
        return sqlite.replace("IN_IDS", "IN (SELECT value FROM json_each(?))")

    def ids(self, values: Iterable[str]) -> Any:
        return json.dumps(list(values))

    def day(self, value: date) -> Any:
        return value.isoformat()

    def moment(self, value: datetime) -> Any:
        """As SQLAlchemy stores a DateTime in SQLite: naive UTC with microseconds."""
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")

    def uf(self, value: Decimal) -> Any:
        return float(value)  # as SQLAlchemy's Numeric binds it for SQLite

    def read_day(self, value: Any) -> date:
        return date.fromisoformat(value)

    def read_moment(self, value: Any) -> datetime:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)

    async def close(self) -> None:
        self._c.close()


class PostgresTx:
    def __init__(self, connection: Any) -> None:
        self._c = connection

    async def fetch(self, sql: str, *args: Any) -> Sequence[Sequence[Any]]:
        return await self._c.fetch(sql, *args)  # type: ignore[no-any-return]

    async def execute(self, sql: str, *args: Any) -> None:
        await self._c.execute(sql, *args)

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            await self._c.executemany(sql, rows)


class Postgres:
    """asyncpg: two connections, one for the batches and one for the relay's marks."""

    dialect = "postgresql"

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    @classmethod
    async def connect(cls, url: str) -> "Postgres":
        import asyncpg  # type: ignore[import-untyped]  # noqa: PLC0415 - only where PostgreSQL is used

        return cls(
            await asyncpg.create_pool(url.replace("postgresql+asyncpg://", "postgresql://"), min_size=2, max_size=2)
        )

    @contextlib.asynccontextmanager
    async def transaction(self, *, flushed: bool = True) -> AsyncIterator[Tx]:
        async with self._pool.acquire() as connection, connection.transaction():
            if not flushed:
                await connection.execute("SET LOCAL synchronous_commit TO OFF")
            yield PostgresTx(connection)

    def sql(self, sqlite: str, postgresql: str | None = None) -> str:
        text = postgresql or sqlite.replace("IN_IDS", "= ANY(?::text[])")
        parts = text.split("?")
        return "".join(part + (f"${n}" if n < len(parts) else "") for n, part in enumerate(parts, start=1))

    def ids(self, values: Iterable[str]) -> Any:
        return list(values)

    def day(self, value: date) -> Any:
        return value

    def moment(self, value: datetime) -> Any:
        return value

    def uf(self, value: Decimal) -> Any:
        return value

    def read_day(self, value: Any) -> date:
        return value  # type: ignore[no-any-return]

    def read_moment(self, value: Any) -> datetime:
        return value.astimezone(UTC)  # type: ignore[no-any-return]

    async def close(self) -> None:
        await self._pool.close()


async def open_database(url: str) -> Database:
    if url.startswith("sqlite"):
        return Sqlite(url.split(":///", 1)[1])
    return await Postgres.connect(url)


async def migrate(service: str, url: str) -> None:
    """The service's own schema, by its Alembic migrations (run by the benchmark, not on the hot path)."""
    from tienda.messaging.database import create_engine  # noqa: PLC0415
    from tienda.messaging.migrations import upgrade_to_head  # noqa: PLC0415

    root = SERVICES_ROOT / service / "src" / "tienda" / service / "migrations"
    scheme, rest = url.split(":", 1)
    driver = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}.get(scheme, scheme)
    engine = create_engine(f"{driver}:{rest}")
    try:
        await upgrade_to_head(engine, root)
    finally:
        await engine.dispose()


# =========================================================================== messages in and out


@dataclass(frozen=True)
class Delivery:
    """A validated record of a type the service handles."""

    topic: str
    partition: int
    offset: int
    envelope: Envelope[Any]

    @property
    def kind(self) -> str:
        return self.envelope.type


@dataclass(frozen=True)
class Outgoing:
    event_id: str
    topic: str
    key: str
    kind: str
    value: bytes


def outgoing(service: str, payload: EventPayload, account_id: str, cause: EnvelopeHeader) -> Outgoing:
    envelope = new_envelope(payload, account_id=account_id, producer=service, cause=cause)
    return Outgoing(
        str(envelope.event_id),
        topic_for(envelope.type, service).name,
        account_id,
        envelope.type,
        envelope.model_dump_json().encode(),  # as tienda.messaging.codec.encode
    )


def decode(record: Any, service: "Service") -> Envelope[Any] | None:
    """The typed envelope of a handled type, None for a type the service does not handle; Poison for
    what no consumer can read; Unsupported for a type Tienda handles and the reference does not."""
    if not record.value:
        raise Poison("empty message: expected a JSON envelope")
    try:
        document = json.loads(record.value)
    except UnicodeDecodeError as error:
        raise Poison(f"message is not UTF-8 text (byte {error.start}): expected JSON") from None
    except json.JSONDecodeError as error:
        raise Poison(f"invalid JSON at line {error.lineno} column {error.colno}: {error.msg}") from None
    if not isinstance(document, dict):
        raise Poison(f"expected a JSON object envelope, got {type(document).__name__}")
    model = service.handled.get(document.get("type"))  # type: ignore[arg-type]
    try:
        envelope: EnvelopeHeader = (model or RawEnvelope).model_validate(document)
        expected = payload_class(envelope.type)
    except ValidationError as error:
        raise Poison(f"envelope rejected: {error}") from None
    except UnknownMessageType as error:
        raise Poison(str(error)) from None
    if envelope.schema_version > expected.schema_version:
        raise Poison(f"{envelope.type} schema version {envelope.schema_version} is newer than this reads")
    if record.key is not None and record.key.decode("utf-8", "replace") != envelope.account_id:
        raise Poison(f"Kafka key {record.key!r} differs from account_id {envelope.account_id!r}")
    if model is None and envelope.type in service.tienda_handles:
        raise Unsupported(f"the {service.name} reference does not implement {envelope.type}, which Tienda handles")
    return envelope if model else None  # type: ignore[return-value]


INBOX_SEEN = "SELECT event_id FROM inbox WHERE event_id IN_IDS"
INBOX_ADD = (
    'INSERT INTO inbox (event_id, message_type, topic, partition, "offset", processed_at) VALUES (?, ?, ?, ?, ?, ?)'
)
OUTBOX_ADD = "INSERT INTO outbox (event_id, topic, key, message_type, value, created_at) VALUES (?, ?, ?, ?, ?, ?)"


@dataclass
class Batch:
    """One transaction's worth: the new deliveries, and what it emits."""

    deliveries: list[Delivery]
    emitted: list[Outgoing] = field(default_factory=list)
    committed: list[str] = field(default_factory=list)
    """Carts this batch committed (the store's cart ids; billing's charges by cart id)."""

    def emit(self, service: str, payload: EventPayload, account_id: str, cause: EnvelopeHeader) -> None:
        self.emitted.append(outgoing(service, payload, account_id, cause))


async def fresh(db: Database, tx: Tx, deliveries: list[Delivery], now: datetime) -> list[Delivery]:
    """The deliveries never processed before (nor earlier in this batch); their inbox rows written."""
    ids = [str(d.envelope.event_id) for d in deliveries]
    seen = {row[0] for row in await tx.fetch(db.sql(INBOX_SEEN), db.ids(ids))}
    new, rows = [], []
    at = db.moment(now)
    for delivery, event_id in zip(deliveries, ids, strict=True):
        if event_id in seen:
            continue
        seen.add(event_id)
        new.append(delivery)
        rows.append((event_id, delivery.kind, delivery.topic, delivery.partition, delivery.offset, at))
    await tx.executemany(db.sql(INBOX_ADD), rows)
    return new


class Service(Protocol):
    name: str
    handled: dict[str, type[Envelope[Any]]]
    tienda_handles: frozenset[str]

    async def handle(self, db: Database, tx: Tx, batch: Batch, now: datetime) -> None: ...


def typed(*payloads: type[EventPayload]) -> dict[str, type[Envelope[Any]]]:
    return {payload.message_type: Envelope[payload] for payload in payloads}  # type: ignore[valid-type]


# =========================================================================== the store

CHILE = ZoneInfo("America/Santiago")


def chile_day(moment: datetime) -> date:
    """The store's business day: the calendar day in Chile (activations take effect on it)."""
    return moment.astimezone(CHILE).date()


STORE_CATALOG = (
    "SELECT sku, description, resource, unit_price_uf, min_quantity, max_quantity, units_per_quantity, requires, plans"
    " FROM catalog_items WHERE version = (SELECT version FROM catalog_versions WHERE effective_from <= ?"
    " ORDER BY effective_from DESC LIMIT 1)"
)
STORE_ACCOUNTS = (
    "SELECT account_id, plan_code, plan_name, billing_cycle, renewal_anchor, plan_price_uf, status,"
    " suspended_reason, revision FROM account_plans WHERE account_id IN_IDS"
)
STORE_ACCOUNTS_LOCKED = STORE_ACCOUNTS + " ORDER BY account_id FOR UPDATE"
STORE_HOLDINGS = "SELECT account_id, resource, included, purchased FROM entitlements WHERE account_id IN_IDS"
STORE_PENDING = (
    "SELECT reduction_id, account_id, request_id, requested_by_user_id, requested_by_name, requested_by_email,"
    " requested_at FROM reductions WHERE account_id IN_IDS AND status = 'scheduled'"
    " ORDER BY requested_at, reduction_id"
)
STORE_PENDING_LINES = (
    "SELECT reduction_id, sku, description, resource, quantity, units, unit_price_uf FROM reduction_lines"
    " WHERE reduction_id IN_IDS ORDER BY line"
)
STORE_DONE_SQLITE = (
    "SELECT a.account_id, a.request_id FROM json_each(?) AS k JOIN activations AS a"
    " ON a.account_id = json_extract(k.value, '$[0]') AND a.request_id = json_extract(k.value, '$[1]')"
)
STORE_DONE_POSTGRESQL = (
    "SELECT a.account_id, a.request_id FROM unnest(?::text[], ?::text[]) AS k(account_id, request_id)"
    " JOIN activations AS a ON a.account_id = k.account_id AND a.request_id = k.request_id"
)
STORE_ADD_ACCOUNT = (
    "INSERT INTO account_plans (plan_code, plan_name, billing_cycle, renewal_anchor, plan_price_uf, status,"
    " suspended_reason, revision, updated_at, account_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
STORE_SAVE_ACCOUNT = (
    "UPDATE account_plans SET plan_code = ?, plan_name = ?, billing_cycle = ?, renewal_anchor = ?, plan_price_uf = ?,"
    " status = ?, suspended_reason = ?, revision = ?, updated_at = ? WHERE account_id = ?"
)
STORE_SAVE_HOLDING = (
    "INSERT INTO entitlements (account_id, resource, quantity, included, purchased) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (account_id, resource) DO UPDATE SET quantity = excluded.quantity,"
    " included = excluded.included, purchased = excluded.purchased"
)
STORE_DROP_HOLDING = "DELETE FROM entitlements WHERE account_id = ? AND resource = ?"
STORE_APPLIED = (
    "UPDATE reductions SET status = 'applied', applied_at = ?, applied_by_event_id = ? WHERE reduction_id = ?"
)
STORE_ADD_ACTIVATION = (
    "INSERT INTO activations (activation_id, account_id, request_id, payment_mode, effective_date,"
    " requested_by_user_id, requested_by_name, requested_by_email, event_id, activated_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
STORE_ADD_LINE = (
    "INSERT INTO activation_lines (activation_id, line, sku, description, quantity, unit_price_uf)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
STORE_HISTORY = (
    "WITH ranked AS (SELECT activation_id, account_id, request_id, payment_mode, effective_date,"
    " requested_by_user_id, requested_by_name, requested_by_email, activated_at,"
    " ROW_NUMBER() OVER (PARTITION BY account_id ORDER BY activated_at DESC, activation_id) AS n,"
    " COUNT(*) OVER (PARTITION BY account_id) AS total FROM activations WHERE account_id IN_IDS)"
    " SELECT r.account_id, r.total, r.activation_id, r.request_id, r.payment_mode, r.effective_date,"
    " r.requested_by_user_id, r.requested_by_name, r.requested_by_email, r.activated_at,"
    " l.sku, l.description, l.quantity, l.unit_price_uf"
    " FROM ranked AS r JOIN activation_lines AS l ON l.activation_id = r.activation_id"
    " WHERE r.n <= ? ORDER BY r.account_id, r.n, l.line"
)


@dataclass
class StoreState:
    """The accounts of one batch as read at its start, and what the batch changed."""

    accounts: dict[str, Account]
    holdings: dict[str, dict[str, Holding]]
    stored: set[str]
    """Accounts with a row in account_plans before this batch."""
    done: set[tuple[str, str]]
    """(account, request id) already activated."""
    catalogs: dict[date, dict[str, Product]] = field(default_factory=dict)
    changed: dict[str, EnvelopeHeader] = field(default_factory=dict)
    """Accounts whose plan view changed, with the last message that changed it (the snapshot's cause)."""
    applied: list[tuple[Any, ...]] = field(default_factory=list)
    activations: list[tuple[Any, ...]] = field(default_factory=list)
    lines: list[tuple[Any, ...]] = field(default_factory=list)


class Store:
    name = "store"
    handled = typed(ActivationRequested, PlanContracted)
    tienda_handles = frozenset(
        {"ActivationRequested", "ReductionRequested", "PlanContracted", "AccountSuspended", "AccountReinstated"}
    )

    def __init__(self, snapshots: bool = True) -> None:
        self.snapshots = snapshots

    async def handle(self, db: Database, tx: Tx, batch: Batch, now: datetime) -> None:
        state = await self._read(db, tx, batch.deliveries)
        for delivery in batch.deliveries:
            envelope = delivery.envelope
            if delivery.kind == "ActivationRequested":
                if await self._activate(db, tx, state, envelope, batch, now):
                    batch.committed.append(str(envelope.event_id))
            else:
                self._contract(db, state, envelope, now)
        await self._write(db, tx, state, now)
        if self.snapshots and state.changed:
            await self._snapshots(db, tx, state, batch, now)

    async def _read(self, db: Database, tx: Tx, deliveries: list[Delivery]) -> StoreState:
        ids = db.ids(sorted({d.envelope.account_id for d in deliveries}))
        locked = STORE_ACCOUNTS_LOCKED if db.dialect == "postgresql" else STORE_ACCOUNTS
        heads = await tx.fetch(db.sql(locked), ids)
        holdings: dict[str, dict[str, Holding]] = {}
        for account_id, resource, included, purchased in await tx.fetch(db.sql(STORE_HOLDINGS), ids):
            holdings.setdefault(account_id, {})[resource] = Holding(resource, included, purchased)
        pending = await self._pending(db, tx, ids)
        accounts = {}
        for account_id, code, name, cycle, anchor, price, status, reason, revision in heads:
            held = holdings.get(account_id, {})
            plan = Plan(code, name, cycle, db.read_day(anchor), read_uf(price))
            accounts[account_id] = Account(
                account_id,
                plan,
                Status(status),
                reason,
                dict(held),
                pending.get(account_id, []),
                revision,
                _saved(held),
            )
        carts = [
            (d.envelope.account_id, d.envelope.payload.request_id)
            for d in deliveries
            if d.kind == "ActivationRequested"
        ]
        done: set[tuple[str, str]] = set()
        if carts:
            if db.dialect == "postgresql":
                found = await tx.fetch(db.sql("", STORE_DONE_POSTGRESQL), *map(list, zip(*carts, strict=True)))
            else:
                found = await tx.fetch(STORE_DONE_SQLITE, json.dumps(carts))
            done = {(account_id, request_id) for account_id, request_id in found}
        return StoreState(accounts, holdings, set(accounts), done)

    async def _pending(self, db: Database, tx: Tx, ids: Any) -> dict[str, list[Reduction]]:
        heads = await tx.fetch(db.sql(STORE_PENDING), ids)
        if not heads:
            return {}
        items: dict[str, list[ReducedItem]] = {}
        for reduction_id, *line in await tx.fetch(db.sql(STORE_PENDING_LINES), db.ids(h[0] for h in heads)):
            sku, description, resource, quantity, units, price = line
            items.setdefault(reduction_id, []).append(
                ReducedItem(sku, description, resource, quantity, units, read_uf(price))
            )
        pending: dict[str, list[Reduction]] = {}
        for reduction_id, account_id, request_id, user_id, name, email, at in heads:
            who = {"user_id": user_id, "name": name, "email": email}
            pending.setdefault(account_id, []).append(
                Reduction(reduction_id, request_id, who, db.read_moment(at), tuple(items.get(reduction_id, ())))
            )
        return pending

    async def _catalog(self, db: Database, tx: Tx, state: StoreState, day: date) -> dict[str, Product]:
        if day not in state.catalogs:
            rows = await tx.fetch(db.sql(STORE_CATALOG), db.day(day))
            state.catalogs[day] = {
                sku: Product(
                    sku,
                    description,
                    resource,
                    read_uf(price),
                    low,
                    high,
                    units,
                    tuple(_json(needs)),
                    frozenset(_json(plans)),
                )
                for sku, description, resource, price, low, high, units, needs, plans in rows
            }
        return state.catalogs[day]

    async def _activate(
        self,
        db: Database,
        tx: Tx,
        state: StoreState,
        envelope: Envelope[ActivationRequested],
        batch: Batch,
        now: datetime,
    ) -> bool:
        """Tienda's activate_resources, on the batch's state in memory. Whether a cart was activated."""
        request, account_id = envelope.payload, envelope.account_id
        if (account_id, request.request_id) in state.done:
            return False
        account = state.accounts.get(account_id)
        effective = chile_day(envelope.occurred_at)
        catalog = await self._catalog(db, tx, state, effective)
        decision = decide([CartItem(line.sku, line.quantity) for line in request.lines], catalog, account)
        if not decision.accepted or account is None:
            reasons = [
                RejectedLine(line=r.line, sku=r.sku, code=r.code.value, message=r.message) for r in decision.refusals
            ]
            rejected = ActivationRejected(
                request_id=request.request_id, requested_by=request.requested_by, reasons=reasons
            )
            batch.emit(self.name, rejected, account_id, envelope)
            return False
        activation_id = uuid4()
        account.grant(granted(decision.activated))
        account.revision += 1
        state.done.add((account_id, request.request_id))
        who = request.requested_by
        state.activations.append(
            (
                str(activation_id), account_id, request.request_id, request.payment_mode.value, db.day(effective),
                who.user_id, who.name, str(who.email), str(envelope.event_id), db.moment(now),
            )
        )  # fmt: skip
        state.lines.extend(
            (
                str(activation_id),
                n,
                item.product.sku,
                item.product.description,
                item.quantity,
                db.uf(item.unit_price_uf),
            )
            for n, item in enumerate(decision.activated, start=1)
        )
        common = {
            "activation_id": activation_id,
            "request_id": request.request_id,
            "requested_by": who,
            "payment_mode": request.payment_mode,
            "effective_date": effective,
            "lines": [_priced(item) for item in decision.activated],
        }
        entitlements = [Entitlement(resource=r, quantity=q) for r, q in sorted(account.quantities().items())]
        batch.emit(self.name, ActivationCompleted(**common, entitlements=entitlements), account_id, envelope)
        batch.emit(self.name, ChargeScheduled(**common), account_id, envelope)
        state.changed.pop(account_id, None)
        state.changed[account_id] = envelope
        return True

    def _contract(self, db: Database, state: StoreState, envelope: Envelope[PlanContracted], now: datetime) -> None:
        """Tienda's contract_plan: a new baseline; reductions requested before it take effect."""
        contracted, account_id = envelope.payload, envelope.account_id
        plan = Plan(
            contracted.plan_code,
            contracted.plan_name,
            contracted.billing_cycle.value,
            contracted.renewal_anchor,
            contracted.plan_price_uf,
        )
        included = baseline(((e.resource, e.quantity) for e in contracted.included), contracted.modules)
        account = state.accounts.get(account_id)
        if account is None:
            held = state.holdings.get(account_id, {})
            account = state.accounts[account_id] = Account(account_id, plan, holdings=dict(held), saved=_saved(held))
            account.contract(plan, included)
            account.revision = 1
        else:
            applied = account.renew(envelope.occurred_at)
            account.contract(plan, included)
            account.revision += 1
            at, cause = db.moment(now), str(envelope.event_id)
            state.applied.extend((at, cause, reduction.reduction_id) for reduction in applied)
        state.changed.pop(account_id, None)
        state.changed[account_id] = envelope

    async def _write(self, db: Database, tx: Tx, state: StoreState, now: datetime) -> None:
        """Every table once: accounts, entitlements that changed, reductions applied, activations and lines."""
        at = db.moment(now)
        added: list[tuple[Any, ...]] = []
        saved: list[tuple[Any, ...]] = []
        holdings: list[tuple[Any, ...]] = []
        dropped: list[tuple[str, str]] = []
        for account_id in state.changed:
            account = state.accounts[account_id]
            row = (
                account.plan.code, account.plan.name, account.plan.billing_cycle, db.day(account.plan.renewal_anchor),
                db.uf(account.plan.price_uf), account.status.value, account.suspended_reason, account.revision, at,
                account_id,
            )  # fmt: skip
            (saved if account_id in state.stored else added).append(row)
            for resource in set(account.saved) - set(account.holdings):
                dropped.append((account_id, resource))
            for resource, held in account.holdings.items():
                if account.saved.get(resource) != (held.included, held.purchased):
                    holdings.append((account_id, resource, held.total(), held.included, held.purchased))
            account.saved = _saved(account.holdings)
        await tx.executemany(db.sql(STORE_ADD_ACCOUNT), added)
        await tx.executemany(db.sql(STORE_SAVE_ACCOUNT), saved)
        await tx.executemany(db.sql(STORE_DROP_HOLDING), dropped)
        await tx.executemany(db.sql(STORE_SAVE_HOLDING), holdings)
        await tx.executemany(db.sql(STORE_APPLIED), state.applied)
        await tx.executemany(db.sql(STORE_ADD_ACTIVATION), state.activations)
        await tx.executemany(db.sql(STORE_ADD_LINE), state.lines)

    async def _snapshots(self, db: Database, tx: Tx, state: StoreState, batch: Batch, now: datetime) -> None:
        """One PlanSnapshot per account changed in the batch, as Tienda's plan_snapshot builds it."""
        history: dict[str, dict[str, ActivationRecord]] = {}
        totals: dict[str, int] = {}
        lines: dict[str, list[PricedLine]] = {}
        rows = await tx.fetch(db.sql(STORE_HISTORY), db.ids(state.changed), SNAPSHOT_HISTORY)
        for account_id, total, activation_id, request_id, mode, day, user_id, name, email, at, *line in rows:
            totals[account_id] = total
            records = history.setdefault(account_id, {})
            if activation_id not in records:
                lines[activation_id] = []
                records[activation_id] = ActivationRecord.model_construct(
                    activation_id=UUID(activation_id),
                    request_id=request_id,
                    requested_by=Person.model_construct(user_id=user_id, name=name, email=email),
                    payment_mode=PaymentMode(mode),
                    effective_date=db.read_day(day),
                    activated_at=db.read_moment(at),
                    lines=lines[activation_id],
                )
            sku, description, quantity, price = line
            lines[activation_id].append(
                PricedLine.model_construct(
                    sku=sku, description=description, quantity=quantity, unit_price_uf=read_uf(price)
                )
            )
        for account_id, cause in state.changed.items():
            account = state.accounts[account_id]
            snapshot = _plan_snapshot(
                account, list(history.get(account_id, {}).values()), totals.get(account_id, 0), now
            )
            batch.emit(self.name, snapshot, account_id, cause)


def _plan_snapshot(account: Account, history: list[ActivationRecord], total: int, now: datetime) -> PlanSnapshot:
    plan = account.plan
    return PlanSnapshot(
        revision=max(account.revision, 1),
        as_of=now,
        plan=PlanSummary(
            code=plan.code,
            name=plan.name,
            billing_cycle=BillingCycle(plan.billing_cycle),
            renewal_anchor=plan.renewal_anchor,
            price_uf=plan.price_uf,
            status=AccountStatus(account.status.value),
            suspended_reason=account.suspended_reason,
        ),
        features=account.features(),
        counts=PlanCounts(
            users=account.quantity(USERS),
            legal_entities=account.quantity(LEGAL_ENTITIES),
            payroll_workers=account.quantity(PAYROLL_WORKERS),
            dte_monthly=account.quantity(DTE_MONTHLY),
        ),
        resources=[
            ResourceHolding(
                resource=resource,
                included=held.included,
                purchased=held.purchased,
                quantity=held.total(),
                scheduled_removal=account.scheduled_removal(resource),
                at_next_renewal=account.at_next_renewal(resource),
            )
            for resource, held in sorted(account.holdings.items())
        ],
        pending_reductions=[
            PendingReduction(
                reduction_id=reduction.reduction_id,
                request_id=reduction.request_id,
                requested_by=Person.model_validate(reduction.requested_by),
                requested_at=reduction.requested_at,
                lines=[
                    ReducedLine(
                        sku=item.sku,
                        description=item.description,
                        resource=item.resource,
                        quantity=item.quantity,
                        units=item.units,
                        unit_price_uf=item.unit_price_uf,
                    )
                    for item in reduction.items
                ],
            )
            for reduction in account.pending
        ],
        activations=history,
        activations_total=total,
    )


def _saved(holdings: dict[str, Holding]) -> dict[str, tuple[int, int]]:
    return {resource: (held.included, held.purchased) for resource, held in holdings.items()}


def _priced(item: ActivatedItem) -> PricedLine:
    return PricedLine(
        sku=item.product.sku,
        description=item.product.description,
        quantity=item.quantity,
        unit_price_uf=item.unit_price_uf,
    )


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


# =========================================================================== billing

BILLING_RECORDED = "SELECT DISTINCT activation_id FROM charges WHERE activation_id IN_IDS"
BILLING_ACCOUNTS = (
    "SELECT account_id, plan_code, plan_name, cycle, anchor, plan_price_uf, current_period_start,"
    " current_period_end, credit_clp, suspended, suspended_reason FROM billing_accounts WHERE account_id IN_IDS"
)
BILLING_WAITING = (
    "SELECT activation_id, line, account_id, effective_date, payment_mode FROM charges"
    " WHERE account_id IN_IDS AND status = 'waiting_for_plan' ORDER BY effective_date, recorded_at, line"
)
BILLING_ADD_CHARGE = (
    "INSERT INTO charges (activation_id, line, account_id, sku, description, quantity, unit_price_uf,"
    " effective_date, payment_mode, event_id, recorded_at, status, request_id, requested_by_user_id,"
    " requested_by_name, requested_by_email, period_start, period_end, months)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
BILLING_PLACE = (
    "UPDATE charges SET status = 'pending_renewal', period_start = ?, period_end = ?, months = ?"
    " WHERE activation_id = ? AND line = ?"
)
BILLING_ADD_ACCOUNT = (
    "INSERT INTO billing_accounts (plan_code, plan_name, cycle, anchor, plan_price_uf, current_period_start,"
    " current_period_end, next_renewal, suspended, suspended_reason, updated_at, credit_clp, account_id)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
BILLING_SAVE_ACCOUNT = (
    "UPDATE billing_accounts SET plan_code = ?, plan_name = ?, cycle = ?, anchor = ?, plan_price_uf = ?,"
    " current_period_start = ?, current_period_end = ?, next_renewal = ?, suspended = ?, suspended_reason = ?,"
    " updated_at = ? WHERE account_id = ?"
)
PERIOD_START, PERIOD_END, MONTHS, STATUS = 16, 17, 18, 11
"""Positions in a charge row (BILLING_ADD_CHARGE) that placing it fills."""


@dataclass
class Waiting:
    """A charge that waits for its account's plan: stored before this batch, or a row of it."""

    activation_id: str
    line: int
    effective: date
    mode: str
    row: list[Any] | None = None


@dataclass
class BillingState:
    """The billing accounts of one batch, and what the batch writes."""

    accounts: dict[str, BillingAccount]
    stored: set[str]
    """Accounts with a row before this batch."""
    recorded: set[str]
    """Activations whose charges are recorded."""
    waiting: dict[str, list[Waiting]] = field(default_factory=dict)
    changed: dict[str, BillingAccount] = field(default_factory=dict)
    rows: list[list[Any]] = field(default_factory=list)
    placed: list[tuple[Any, ...]] = field(default_factory=list)


class Billing:
    name = "billing"
    handled = typed(ChargeScheduled, PlanContracted)
    tienda_handles = frozenset(
        {
            "PlanContracted", "AccountSuspended", "AccountReinstated", "ChargeScheduled", "ReductionScheduled",
            "PaymentReceived", "PaymentFailed", "BillingDataSubmitted", "CardSubscribed", "CardUnsubscribed",
            "UfValuePublished",
        }
    )  # fmt: skip

    async def handle(self, db: Database, tx: Tx, batch: Batch, now: datetime) -> None:
        state = await self._read(db, tx, batch.deliveries)
        for delivery in batch.deliveries:
            if delivery.kind == "PlanContracted":
                self._contract(db, state, delivery.envelope)
            elif self._charge(db, state, delivery.envelope, now):
                batch.committed.append(str(delivery.envelope.causation_id))
        await self._write(db, tx, state, now)

    async def _read(self, db: Database, tx: Tx, deliveries: list[Delivery]) -> BillingState:
        ids = db.ids(sorted({d.envelope.account_id for d in deliveries}))
        charges = [str(d.envelope.payload.activation_id) for d in deliveries if d.kind == "ChargeScheduled"]
        recorded = {row[0] for row in await tx.fetch(db.sql(BILLING_RECORDED), db.ids(charges))} if charges else set()
        accounts = {row[0]: _billing_account(db, row) for row in await tx.fetch(db.sql(BILLING_ACCOUNTS), ids)}
        state = BillingState(accounts, set(accounts), recorded)
        if any(d.kind == "PlanContracted" and d.envelope.account_id not in accounts for d in deliveries):
            for activation_id, line, account_id, day, mode in await tx.fetch(db.sql(BILLING_WAITING), ids):
                state.waiting.setdefault(account_id, []).append(Waiting(activation_id, line, db.read_day(day), mode))
        return state

    def _contract(self, db: Database, state: BillingState, envelope: Envelope[PlanContracted]) -> None:
        """Tienda's contract_plan: open the account (and place the charges that waited for it), or change its plan."""
        account_id = envelope.account_id
        account = _contracted(envelope, state.accounts.get(account_id))
        state.accounts[account_id] = state.changed[account_id] = account
        if account_id in state.stored:
            return
        for charge in state.waiting.pop(account_id, []):
            if charge.mode != PaymentMode.AT_RENEWAL.value:
                raise Unsupported("online carts (orders, UF conversion) are not part of the reference")
            if charge.row is not None:  # a charge of this batch: its row is not written yet
                _place(db, charge.row, account, charge.effective)
                continue
            period = account.period_of(charge.effective)
            state.placed.append(
                (db.day(period.start), db.day(period.end), account.months_per_period, charge.activation_id, charge.line)
            )

    def _charge(self, db: Database, state: BillingState, envelope: Envelope[ChargeScheduled], now: datetime) -> bool:
        """Tienda's schedule_charge: each line of the activation once, placed in its period. Whether recorded."""
        scheduled, account_id = envelope.payload, envelope.account_id
        activation_id = str(scheduled.activation_id)
        if activation_id in state.recorded:
            return False
        state.recorded.add(activation_id)
        if scheduled.payment_mode is not PaymentMode.AT_RENEWAL:
            raise Unsupported("online carts (orders, UF conversion) are not part of the reference")
        account = state.accounts.get(account_id)
        who = scheduled.requested_by
        for n, line in enumerate(scheduled.lines, start=1):
            row = [
                activation_id, n, account_id, line.sku, line.description, line.quantity, db.uf(line.unit_price_uf),
                db.day(scheduled.effective_date), scheduled.payment_mode.value, str(envelope.event_id),
                db.moment(now), "waiting_for_plan", scheduled.request_id, who.user_id, who.name, str(who.email),
                None, None, None,
            ]  # fmt: skip
            if account is None:
                waiting = Waiting(activation_id, n, scheduled.effective_date, scheduled.payment_mode.value, row)
                state.waiting.setdefault(account_id, []).append(waiting)
            else:
                _place(db, row, account, scheduled.effective_date)
            state.rows.append(row)
        return True

    async def _write(self, db: Database, tx: Tx, state: BillingState, now: datetime) -> None:
        at = db.moment(now)
        added, saved = [], []
        for account_id, account in state.changed.items():
            values = _account_values(db, account, at)
            if account_id in state.stored:
                saved.append((*values, account_id))
            else:
                added.append((*values, account.credit_clp, account_id))
        await tx.executemany(db.sql(BILLING_ADD_ACCOUNT), added)
        await tx.executemany(db.sql(BILLING_SAVE_ACCOUNT), saved)
        await tx.executemany(db.sql(BILLING_ADD_CHARGE), state.rows)
        await tx.executemany(db.sql(BILLING_PLACE), state.placed)


def _contracted(envelope: Envelope[PlanContracted], account: BillingAccount | None) -> BillingAccount:
    """The account opened by its plan, or under a new plan from the next renewal (billing's domain)."""
    contract = envelope.payload
    plan = BillingPlan(
        contract.plan_code,
        contract.plan_name,
        Cycle(contract.billing_cycle.value),
        contract.renewal_anchor,
        contract.plan_price_uf,
    )
    if account is not None:
        return change_plan(account, plan)
    return open_account(envelope.account_id, plan, business_date(envelope.occurred_at))


def _billing_account(db: Database, row: Sequence[Any]) -> BillingAccount:
    account_id, code, name, cycle, anchor, price, start, end, credit, suspended, reason = row
    plan = BillingPlan(code, name, Cycle(cycle), db.read_day(anchor), read_uf(price))
    period = Period(db.read_day(start), db.read_day(end))
    return BillingAccount(account_id, plan, period, int(credit), bool(suspended), reason)


def _account_values(db: Database, account: BillingAccount, at: Any) -> tuple[Any, ...]:
    plan, current = account.plan, account.current_period
    return (
        plan.code, plan.name, plan.cycle.value, db.day(plan.anchor), db.uf(plan.price_uf), db.day(current.start),
        db.day(current.end), db.day(account.next_period.start), account.suspended, account.suspended_reason, at,
    )  # fmt: skip


def _place(db: Database, row: list[Any], account: BillingAccount, effective: date) -> None:
    """The charge in the period of its effective date, for the next renewal invoice (billing's domain)."""
    period = account.period_of(effective)
    row[STATUS] = "pending_renewal"
    row[PERIOD_START], row[PERIOD_END], row[MONTHS] = (
        db.day(period.start),
        db.day(period.end),
        account.months_per_period,
    )


# =========================================================================== the advisor

ADVISOR_NOTE = (
    "INSERT INTO timeline (account_id, event_id, kind, summary, occurred_at, reference) VALUES (?, ?, ?, ?, ?, ?)"
    " ON CONFLICT DO NOTHING"
)


class Advisor:
    name = "advisor"
    handled = typed(ActivationCompleted, ChargeScheduled)
    tienda_handles = frozenset(
        {
            "ActivationCompleted", "ActivationRejected", "ChargeScheduled", "PaymentReceived", "PaymentFailed",
            "AutopayFailed", "ReductionScheduled", "ReductionRejected", "OrderCreated", "InvoiceIssued",
            "PaymentRecorded", "CommercialRequestSubmitted", "CommercialRequestUpdated", "ExecutiveAssigned",
        }
    )  # fmt: skip

    async def handle(self, db: Database, tx: Tx, batch: Batch, now: datetime) -> None:
        notes = []
        for delivery in batch.deliveries:
            envelope, event = delivery.envelope, delivery.envelope.payload
            if delivery.kind == "ActivationCompleted":
                if any(line.sku.startswith("MOD-") for line in event.lines):
                    raise Unsupported("training follow-ups for modules are not part of the reference")
                kind, summary = "activation_completed", summaries.activation_summary(event)
            else:
                kind, summary = "charge_scheduled", summaries.charge_summary(event)
            notes.append(
                (envelope.account_id, str(envelope.event_id), kind, summary, db.moment(envelope.occurred_at),
                 str(event.activation_id))
            )  # fmt: skip
        await tx.executemany(db.sql(ADVISOR_NOTE), notes)


# =========================================================================== the loop


class Relay:
    """Publishes committed outbox rows in commit order, then marks them; the consumer keeps up with it."""

    def __init__(self, db: Database, producer: AIOKafkaProducer) -> None:
        self._db = db
        self._producer = producer
        self._queue: asyncio.Queue[list[Outgoing]] = asyncio.Queue()
        self._progress = asyncio.Event()
        self._mark = db.sql("UPDATE outbox SET published_at = ? WHERE event_id IN_IDS")
        self.pending = 0

    def add(self, rows: list[Outgoing]) -> None:
        if rows:
            self.pending += len(rows)
            self._queue.put_nowait(rows)

    async def keep_up(self, limit: int = RELAY_LIMIT) -> None:
        while self.pending > limit:
            self._progress.clear()
            await self._progress.wait()

    async def leftovers(self) -> None:
        """Rows a crash left committed and unpublished: first, in order."""
        async with self._db.transaction() as tx:
            rows = await tx.fetch(
                "SELECT event_id, topic, key, message_type, value FROM outbox WHERE published_at IS NULL ORDER BY id"
            )
        for start in range(0, len(rows), RELAY_BATCH):
            await self._publish([Outgoing(e, t, k, m, bytes(v)) for e, t, k, m, v in rows[start : start + RELAY_BATCH]])

    async def run(self) -> None:
        """Rounds of at most RELAY_BATCH rows, as Tienda's relay: the consumer goes on after each."""
        rows: list[Outgoing] = []
        while True:
            if not rows:
                rows = await self._queue.get()
            while not self._queue.empty() and len(rows) < RELAY_BATCH:
                rows += self._queue.get_nowait()
            chunk, rows = rows[:RELAY_BATCH], rows[RELAY_BATCH:]
            delay = 0.1
            while True:
                try:
                    await self._publish(chunk)
                    break
                except Exception as error:  # noqa: BLE001 - broker or database away: the same rows again
                    print(f"relay paused {delay:.1f}s: {error}", file=sys.stderr)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 5.0)
            self.pending -= len(chunk)
            self._progress.set()

    async def _publish(self, rows: list[Outgoing]) -> None:
        sends = [await self._producer.send(row.topic, row.value, key=row.key.encode()) for row in rows]
        await asyncio.gather(*sends)
        async with self._db.transaction(flushed=False) as tx:
            await tx.execute(self._mark, self._db.moment(datetime.now(UTC)), self._db.ids(r.event_id for r in rows))


class Offsets(ConsumerRebalanceListener):  # type: ignore[misc]
    """Positions of handled records, committed at most once a second, on a rebalance and at stop."""

    def __init__(self) -> None:
        self.consumer: Any = None
        self._pending: dict[TopicPartition, int] = {}
        self._last = time.monotonic()

    def handled(self, records: Iterable[Any]) -> None:
        for record in records:
            partition = TopicPartition(record.topic, record.partition)
            self._pending[partition] = max(self._pending.get(partition, 0), record.offset + 1)

    async def commit(self, *, now: bool = False) -> None:
        if self._pending and (now or time.monotonic() - self._last >= COMMIT_INTERVAL):
            positions, self._pending = self._pending, {}
            self._last = time.monotonic()
            await self.consumer.commit(positions)

    async def on_partitions_revoked(self, revoked: Any) -> None:
        await self.commit(now=True)

    async def on_partitions_assigned(self, assigned: Any) -> None:
        """Positions come from the group's committed offsets (or the end, for a new group)."""


class Stats:
    """One JSON line per committed batch, for the benchmark."""

    def __init__(self, path: Path, service: str) -> None:
        self._file = path.open("a", buffering=1)
        self._service = service
        self.kinds: dict[str, int] = {}

    def write(self, **fields: Any) -> None:
        self._file.write(json.dumps({"service": self._service, "t": time.time(), **fields}) + "\n")


async def dead_letter(producer: AIOKafkaProducer, service: str, record: Any, error: Exception) -> None:
    headers = [
        ("x-tienda-original-topic", record.topic.encode()),
        ("x-tienda-original-partition", str(record.partition).encode()),
        ("x-tienda-original-offset", str(record.offset).encode()),
        ("x-tienda-error-class", type(error).__name__.encode()),
        ("x-tienda-error-message", str(error)[:1000].encode()),
        ("x-tienda-service", service.encode()),
    ]
    await (await producer.send(dead_letter_topic(service).name, record.value, key=record.key, headers=headers))


async def transaction(db: Database, service: Service, deliveries: list[Delivery]) -> Batch:
    """The batch in one transaction, retried whole on a failure; the process stops after the last try."""
    for delay in (*RETRY_DELAYS, None):
        now = datetime.now(UTC)
        try:
            async with db.transaction() as tx:
                batch = Batch(await fresh(db, tx, deliveries, now))
                if batch.deliveries:
                    await service.handle(db, tx, batch, now)
                await tx.executemany(
                    db.sql(OUTBOX_ADD),
                    [(r.event_id, r.topic, r.key, r.kind, r.value, db.moment(now)) for r in batch.emitted],
                )
            return batch
        except Unsupported:
            raise
        except Exception as error:
            if delay is None:
                raise
            print(f"batch of {len(deliveries)} failed ({error}); again in {delay}s", file=sys.stderr)
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")


async def positioned(consumer: AIOKafkaConsumer, topics: Sequence[str], offsets: Offsets) -> None:
    """Wait for the group's partitions and their positions (the end, for a new group), and commit them."""
    partitions = {TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()}
    while not partitions or consumer.assignment() != partitions:
        await asyncio.sleep(0.1)
        partitions = {TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()}
    await consumer.commit({tp: await consumer.position(tp) for tp in partitions})
    offsets.consumer = consumer


async def handle_records(
    records: list[Any], service: Service, db: Database, producer: AIOKafkaProducer, relay: Relay, stats: Stats
) -> None:
    """One polled batch: after the relay keeps up, decoded (poison dead-lettered), one transaction, relayed."""
    began = time.perf_counter()
    await relay.keep_up()
    waited = time.perf_counter()
    deliveries = []
    for record in records:
        try:
            envelope = decode(record, service)
        except Poison as error:
            await dead_letter(producer, service.name, record, error)
            continue
        if envelope is not None:
            deliveries.append(Delivery(record.topic, record.partition, record.offset, envelope))
    decoded = time.perf_counter()
    batch = await transaction(db, service, deliveries) if deliveries else Batch([])
    committed = time.perf_counter()
    relay.add(batch.emitted)
    for delivery in batch.deliveries:
        stats.kinds[delivery.kind] = stats.kinds.get(delivery.kind, 0) + 1
    stats.write(
        records=len(records),
        kinds=stats.kinds,
        committed=batch.committed,
        backlog=relay.pending,
        ms={
            "relay_wait": round(1000 * (waited - began), 1),
            "decode": round(1000 * (decoded - waited), 1),
            "transaction": round(1000 * (committed - decoded), 1),
        },
    )


async def serve(service: Service, args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    db = await open_database(args.database)
    topics = [topic.name for topic in topics_consumed_by(service.name)]
    offsets = Offsets()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=args.bootstrap,
        group_id=args.group or f"reference-{service.name}",
        enable_auto_commit=False,
        auto_offset_reset="latest",
        max_poll_records=args.batch,
    )
    consumer.subscribe(topics, listener=offsets)
    producer = AIOKafkaProducer(bootstrap_servers=args.bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    await consumer.start()
    relay = Relay(db, producer)
    await relay.leftovers()
    relaying = asyncio.create_task(relay.run())
    stats = Stats(args.stats, service.name)
    await positioned(consumer, topics, offsets)
    stats.write(ready=True)
    try:
        while not stop.is_set():
            polled = await consumer.getmany(timeout_ms=500, max_records=args.batch)
            records = [record for part in polled.values() for record in part]
            if not records:
                await offsets.commit()
                continue
            await handle_records(records, service, db, producer, relay, stats)
            offsets.handled(records)
            await offsets.commit()
    finally:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(10):
                await relay.keep_up(0)
        relaying.cancel()
        with contextlib.suppress(Exception):
            await offsets.commit(now=True)
        await consumer.stop()
        await producer.stop()
        await db.close()


SERVICES: dict[str, Callable[[argparse.Namespace], Service]] = {
    "store": lambda args: Store(snapshots=args.snapshots),
    "billing": lambda args: Billing(),
    "advisor": lambda args: Advisor(),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("service", choices=sorted(SERVICES))
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--database", required=True, help="sqlite:///PATH or postgresql://...")
    parser.add_argument("--stats", type=Path, required=True, help="JSON lines, one per committed batch")
    parser.add_argument("--group", help="consumer group; default reference-<service>")
    parser.add_argument("--batch", type=int, default=500, help="records per transaction at most")
    parser.add_argument("--no-snapshots", dest="snapshots", action="store_false", help="store: no PlanSnapshot")
    args = parser.parse_args()
    asyncio.run(serve(SERVICES[args.service](args), args))


if __name__ == "__main__":
    main()
