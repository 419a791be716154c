"""Reading and writing the store's tables inside a unit of work.

The statements a cart runs are built once, at import, with bound parameters: SQLAlchemy
then finds them compiled by identity instead of rebuilding and hashing them per call
(bench/handlers.py: this was a fifth of the store's time per cart). The catalog in force
on a day is read once per transaction (``session.info``), so a batch of carts reads it once;
so is an account loaded for a change: the next message of that account in the batch finds it
as the last one left it (every change is written before the handler returns, and a failure
rolls the whole transaction, and this session, back).
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import RowMapping, bindparam, delete, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from tienda.store.adapters.tables import (
    account_plans,
    activation_lines,
    activations,
    catalog_items,
    catalog_versions,
    entitlements,
    reduction_lines,
    reductions,
    status_changes,
)
from tienda.store.domain.activation import ActivatedItem
from tienda.store.domain.catalog import UF_PLACES, CatalogVersion, Product
from tienda.store.domain.plan import (
    Account,
    Holding,
    Plan,
    ReducedItem,
    Reduction,
    Standing,
    Status,
    StatusChange,
)

SCHEDULED, APPLIED = "scheduled", "applied"


def uf(value: Any) -> Decimal:
    """A UF amount read back from the database, exact to 4 decimals (SQLite stores floats)."""
    return Decimal(str(value)).quantize(UF_PLACES)


# --------------------------------------------------------------------------- catalog


def _product(row: RowMapping) -> Product:
    return Product(
        sku=row["sku"],
        description=row["description"],
        resource=row["resource"],
        unit_price_uf=uf(row["unit_price_uf"]),
        min_quantity=row["min_quantity"],
        max_quantity=row["max_quantity"],
        units_per_quantity=row["units_per_quantity"],
        requires=tuple(row["requires"]),
        plans=frozenset(row["plans"]),
    )


def _version_in_force(day: Any) -> Any:
    """The version in force on ``day`` (a date or a bound parameter), as a scalar subquery."""
    return (
        select(catalog_versions.c.version)
        .where(catalog_versions.c.effective_from <= day)
        .order_by(catalog_versions.c.effective_from.desc())
        .limit(1)
        .scalar_subquery()
    )


_CATALOG_ON = select(catalog_items).where(catalog_items.c.version == _version_in_force(bindparam("day")))


async def catalog_on(session: AsyncSession, day: date) -> dict[str, Product]:
    """The products of the catalog version in force on ``day``, by SKU (read once per transaction)."""
    known: dict[date, dict[str, Product]] = session.info.setdefault("catalog_on", {})
    if day not in known:
        rows = await session.execute(_CATALOG_ON, {"day": day})
        known[day] = {row["sku"]: _product(row) for row in rows.mappings()}
    return dict(known[day])


async def products_as_last_sold(session: AsyncSession, skus: Iterable[str], day: date) -> dict[str, Product]:
    """Each SKU as the latest catalog version in force by ``day`` that sold it (even if it sells it no more)."""
    rows = await session.execute(
        select(catalog_items)
        .join(catalog_versions, catalog_versions.c.version == catalog_items.c.version)
        .where(catalog_items.c.sku.in_(list(skus)), catalog_versions.c.effective_from <= day)
        .order_by(catalog_versions.c.effective_from)
    )
    return {row["sku"]: _product(row) for row in rows.mappings()}


async def catalog_version(session: AsyncSession, version: str) -> CatalogVersion | None:
    head = (await session.execute(select(catalog_versions).where(catalog_versions.c.version == version))).mappings()
    found = head.first()
    if found is None:
        return None
    rows = await session.execute(
        select(catalog_items).where(catalog_items.c.version == version).order_by(catalog_items.c.sku)
    )
    products = tuple(_product(row) for row in rows.mappings())
    return CatalogVersion(found["version"], found["effective_from"], found["description"], products)


async def version_effective_from(session: AsyncSession, day: date) -> str | None:
    """The version that takes effect exactly on ``day``, if any."""
    return await session.scalar(select(catalog_versions.c.version).where(catalog_versions.c.effective_from == day))


async def add_catalog_version(session: AsyncSession, catalog: CatalogVersion, source: str, at: datetime) -> None:
    await session.execute(
        insert(catalog_versions).values(
            version=catalog.version,
            effective_from=catalog.effective_from,
            description=catalog.description,
            loaded_at=at,
            source=source[-300:],
        )
    )
    await session.execute(
        insert(catalog_items),
        [
            {
                "version": catalog.version,
                "sku": product.sku,
                "description": product.description,
                "resource": product.resource,
                "unit_price_uf": product.unit_price_uf,
                "min_quantity": product.min_quantity,
                "max_quantity": product.max_quantity,
                "units_per_quantity": product.units_per_quantity,
                "requires": list(product.requires),
                "plans": sorted(product.plans),
            }
            for product in catalog.products
        ],
    )


async def catalog_versions_loaded(session: AsyncSession) -> list[dict[str, Any]]:
    counts = (
        select(catalog_items.c.version, func.count().label("products")).group_by(catalog_items.c.version).subquery()
    )
    rows = await session.execute(
        select(catalog_versions, counts.c.products)
        .join(counts, counts.c.version == catalog_versions.c.version)
        .order_by(catalog_versions.c.effective_from)
    )
    return [dict(row) for row in rows.mappings()]


# --------------------------------------------------------------------------- accounts


_ACCOUNT = select(account_plans).where(account_plans.c.account_id == bindparam("account_id"))
_ACCOUNT_LOCKED = _ACCOUNT.with_for_update()
_HOLDINGS = select(entitlements).where(entitlements.c.account_id == bindparam("account_id"))


def _locked_accounts(session: AsyncSession) -> dict[str, Account]:
    """The accounts this transaction loaded for a change, by id."""
    locked: dict[str, Account] = session.info.setdefault("store_locked_accounts", {})
    return locked


async def load_account(session: AsyncSession, account_id: str, *, lock: bool = False) -> Account | None:
    """The account with its holdings and pending reductions; ``lock``: until the transaction
    ends, and read once in it (the same object is handed to every later handler)."""
    locked = _locked_accounts(session)
    if lock and account_id in locked:
        return locked[account_id]
    query = _ACCOUNT_LOCKED if lock else _ACCOUNT
    head = (await session.execute(query, {"account_id": account_id})).mappings().first()
    if head is None:
        return None
    plan = Plan(
        head["plan_code"], head["plan_name"], head["billing_cycle"], head["renewal_anchor"], uf(head["plan_price_uf"])
    )
    holdings = await _holdings(session, account_id)
    account = Account(
        account_id,
        plan,
        Status(head["status"]),
        head["suspended_reason"],
        holdings,
        await _pending_reductions(session, account_id),
        head["revision"],
        _saved(holdings),
        since=_aware_or_none(head["since"]),
        restated_at=_aware_or_none(head["restated_at"]),
        restated_by=head["restated_by_event_id"],
        status_since=_aware_or_none(head["status_since"]),
    )
    if lock:
        locked[account_id] = account
    return account


async def serialize_new_account(session: AsyncSession, account_id: str) -> None:
    """Until this transaction ends, no other transaction of the store creates the account or
    sets a request aside for it. An account that does not exist yet has no row to lock:
    PostgreSQL takes a transaction-level advisory lock on its id; SQLite writers already run
    one at a time. Taken only for accounts the store does not know, so it costs nothing to a
    known account's messages."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.execute(_ADVISORY_LOCK, {"key": f"tienda-store:{account_id}"})


_ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(hashtext(:key))")


async def new_account(session: AsyncSession, account_id: str, plan: Plan) -> Account:
    """An account contracting its first plan, with what it bought before the store knew plans
    (kept for the transaction like a locked load; the handler inserts its row)."""
    holdings = await _holdings(session, account_id)
    account = Account(account_id, plan, holdings=holdings, saved=_saved(holdings))
    _locked_accounts(session)[account_id] = account
    return account


async def _holdings(session: AsyncSession, account_id: str) -> dict[str, Holding]:
    rows = await session.execute(_HOLDINGS, {"account_id": account_id})
    return {row["resource"]: Holding(row["resource"], row["included"], row["purchased"]) for row in rows.mappings()}


def _saved(holdings: Mapping[str, Holding]) -> dict[str, tuple[int, int]]:
    return {resource: (holding.included, holding.purchased) for resource, holding in holdings.items()}


_UPDATE_ACCOUNT = update(account_plans).where(account_plans.c.account_id == bindparam("saved_account_id"))
_HOLDING_KEY = (
    entitlements.c.account_id == bindparam("holder_account_id"),
    entitlements.c.resource == bindparam("held_resource"),
)
_INSERT_HOLDING = insert(entitlements)
_UPDATE_HOLDING = update(entitlements).where(*_HOLDING_KEY)
_DELETE_HOLDING = delete(entitlements).where(*_HOLDING_KEY)


async def save_account(session: AsyncSession, account: Account, at: datetime, *, new: bool) -> None:
    """Write the account's plan, status, revision and holdings."""
    values = {
        "plan_code": account.plan.code,
        "plan_name": account.plan.name,
        "billing_cycle": account.plan.billing_cycle,
        "renewal_anchor": account.plan.renewal_anchor,
        "plan_price_uf": account.plan.price_uf,
        "status": account.status.value,
        "suspended_reason": account.suspended_reason,
        "revision": account.revision,
        "updated_at": at,
        "since": account.since,
        "restated_at": account.restated_at,
        "restated_by_event_id": account.restated_by,
        "status_since": account.status_since,
    }
    if new:
        await session.execute(insert(account_plans).values(account_id=account.account_id, **values))
    else:
        await session.execute(_UPDATE_ACCOUNT, {"saved_account_id": account.account_id, **values})
    await save_holdings(session, account)


async def save_holdings(session: AsyncSession, account: Account) -> None:
    """Write the holdings that changed since the account was read (or last written)."""
    key = {"holder_account_id": account.account_id}
    for resource in set(account.saved) - set(account.holdings):
        await session.execute(_DELETE_HOLDING, {**key, "held_resource": resource})
    for resource, holding in account.holdings.items():
        values = {"quantity": holding.total(), "included": holding.included, "purchased": holding.purchased}
        if resource not in account.saved:
            await session.execute(_INSERT_HOLDING, {"account_id": account.account_id, "resource": resource, **values})
        elif account.saved[resource] != (holding.included, holding.purchased):
            await session.execute(_UPDATE_HOLDING, {**key, "held_resource": resource, **values})
    account.saved = _saved(account.holdings)


async def add_status_change(session: AsyncSession, account_id: str, change: StatusChange, event_id: str) -> None:
    await session.execute(
        insert(status_changes).values(
            event_id=event_id,
            account_id=account_id,
            occurred_at=change.at,
            status=change.standing.status.value,
            reason=change.standing.reason,
        )
    )


async def status_history(session: AsyncSession, account_id: str) -> list[StatusChange]:
    """The account's suspensions and reinstatements, in the order they occurred."""
    rows = await session.execute(
        select(status_changes)
        .where(status_changes.c.account_id == account_id)
        .order_by(status_changes.c.occurred_at, status_changes.c.event_id)
    )
    return [
        StatusChange(_aware(row["occurred_at"]), Standing(Status(row["status"]), row["reason"]))
        for row in rows.mappings()
    ]


async def save_revision(session: AsyncSession, account: Account, at: datetime) -> None:
    await session.execute(
        update(account_plans)
        .where(account_plans.c.account_id == account.account_id)
        .values(revision=account.revision, updated_at=at)
    )


async def entitlements_of(session: AsyncSession, account_id: str) -> dict[str, int]:
    """What the account may use today, by resource (also for accounts that never contracted a plan)."""
    rows = await session.execute(
        select(entitlements.c.resource, entitlements.c.quantity)
        .where(entitlements.c.account_id == account_id)
        .order_by(entitlements.c.resource)
    )
    return {row.resource: row.quantity for row in rows}


# --------------------------------------------------------------------------- activations


@dataclass(frozen=True)
class NewActivation:
    activation_id: str
    account_id: str
    request_id: str
    payment_mode: str
    effective_date: date
    requested_by: Mapping[str, str]
    event_id: str
    activated_at: datetime
    items: Sequence[ActivatedItem]


_ACTIVATION_OF_REQUEST = select(activations.c.activation_id).where(
    activations.c.account_id == bindparam("account_id"), activations.c.request_id == bindparam("request_id")
)
_INSERT_ACTIVATION = insert(activations)
_INSERT_ACTIVATION_LINES = insert(activation_lines)


async def activation_of_request(session: AsyncSession, account_id: str, request_id: str) -> str | None:
    """The activation id already made for this request, if any."""
    return await session.scalar(_ACTIVATION_OF_REQUEST, {"account_id": account_id, "request_id": request_id})


async def add_activation(session: AsyncSession, activation: NewActivation) -> None:
    who = activation.requested_by
    await session.execute(
        _INSERT_ACTIVATION,
        {
            "activation_id": activation.activation_id,
            "account_id": activation.account_id,
            "request_id": activation.request_id,
            "payment_mode": activation.payment_mode,
            "effective_date": activation.effective_date,
            "requested_by_user_id": who["user_id"],
            "requested_by_name": who["name"],
            "requested_by_email": who["email"],
            "event_id": activation.event_id,
            "activated_at": activation.activated_at,
        },
    )
    await session.execute(
        _INSERT_ACTIVATION_LINES,
        [
            {
                "activation_id": activation.activation_id,
                "line": line,
                "sku": item.product.sku,
                "description": item.product.description,
                "quantity": item.quantity,
                "unit_price_uf": item.unit_price_uf,
            }
            for line, item in enumerate(activation.items, start=1)
        ],
    )


_ACTIVATION_COUNT = (
    select(func.count()).select_from(activations).where(activations.c.account_id == bindparam("account_id"))
)


async def activation_count(session: AsyncSession, account_id: str) -> int:
    return int(await session.scalar(_ACTIVATION_COUNT, {"account_id": account_id}) or 0)


@cache
def _history_query(limit: int | None) -> Any:
    newest_first = (activations.c.activated_at.desc(), activations.c.activation_id)
    latest = (
        select(activations.c.activation_id)
        .where(activations.c.account_id == bindparam("account_id"))
        .order_by(*newest_first)
        .limit(limit)
    )
    line = activation_lines.c
    return (
        select(activations, line.sku, line.description, line.quantity, line.unit_price_uf)
        .join(activation_lines, line.activation_id == activations.c.activation_id)
        .where(activations.c.activation_id.in_(latest))
        .order_by(*newest_first, line.line)
    )


async def activation_history(session: AsyncSession, account_id: str, limit: int | None = None) -> list[dict[str, Any]]:
    """The account's activations, newest first (the latest ``limit``), with their lines, in one query."""
    rows = await session.execute(_history_query(limit), {"account_id": account_id})
    entries: dict[str, dict[str, Any]] = {}
    for row in rows.mappings():
        entry = entries.get(row["activation_id"])
        if entry is None:
            entry = entries[row["activation_id"]] = _history_entry(row)
        entry["lines"].append(
            {
                "sku": row["sku"],
                "description": row["description"],
                "quantity": row["quantity"],
                "unit_price_uf": str(uf(row["unit_price_uf"])),
            }
        )
    return list(entries.values())


def _person(row: RowMapping) -> dict[str, str]:
    return {
        "user_id": row["requested_by_user_id"],
        "name": row["requested_by_name"],
        "email": row["requested_by_email"],
    }


def _history_entry(head: RowMapping) -> dict[str, Any]:
    return {
        "activation_id": head["activation_id"],
        "request_id": head["request_id"],
        "payment_mode": head["payment_mode"],
        "effective_date": head["effective_date"].isoformat(),
        "activated_at": _aware(head["activated_at"]).isoformat(),
        "requested_by": _person(head),
        "lines": [],
    }


# --------------------------------------------------------------------------- reductions


async def reduction_of_request(session: AsyncSession, account_id: str, request_id: str) -> str | None:
    return await session.scalar(
        select(reductions.c.reduction_id).where(
            reductions.c.account_id == account_id, reductions.c.request_id == request_id
        )
    )


async def sku_quantities_left(session: AsyncSession, account_id: str) -> dict[str, int]:
    """By SKU: how many the account bought in the store, less what reductions took or will take."""
    bought = await session.execute(
        select(activation_lines.c.sku, func.sum(activation_lines.c.quantity))
        .join(activations, activations.c.activation_id == activation_lines.c.activation_id)
        .where(activations.c.account_id == account_id)
        .group_by(activation_lines.c.sku)
    )
    left = {sku: int(quantity) for sku, quantity in bought}
    reduced = await session.execute(
        select(reduction_lines.c.sku, func.sum(reduction_lines.c.quantity))
        .join(reductions, reductions.c.reduction_id == reduction_lines.c.reduction_id)
        .where(reductions.c.account_id == account_id)
        .group_by(reduction_lines.c.sku)
    )
    for sku, quantity in reduced:
        left[sku] = left.get(sku, 0) - int(quantity)
    return left


async def add_reduction(session: AsyncSession, account_id: str, reduction: Reduction, event_id: str) -> None:
    who = reduction.requested_by
    await session.execute(
        insert(reductions).values(
            reduction_id=reduction.reduction_id,
            account_id=account_id,
            request_id=reduction.request_id,
            requested_by_user_id=who["user_id"],
            requested_by_name=who["name"],
            requested_by_email=who["email"],
            requested_at=reduction.requested_at,
            event_id=event_id,
            status=SCHEDULED,
        )
    )
    await session.execute(
        insert(reduction_lines),
        [
            {
                "reduction_id": reduction.reduction_id,
                "line": line,
                "sku": item.sku,
                "description": item.description,
                "resource": item.resource,
                "quantity": item.quantity,
                "units": item.units,
                "unit_price_uf": item.unit_price_uf,
            }
            for line, item in enumerate(reduction.items, start=1)
        ],
    )


async def mark_applied(session: AsyncSession, applied: Sequence[Reduction], at: datetime, event_id: str) -> None:
    if applied:
        await session.execute(
            update(reductions)
            .where(reductions.c.reduction_id.in_([reduction.reduction_id for reduction in applied]))
            .values(status=APPLIED, applied_at=at, applied_by_event_id=event_id)
        )


_PENDING_REDUCTIONS = (
    select(reductions)
    .where(reductions.c.account_id == bindparam("account_id"), reductions.c.status == SCHEDULED)
    .order_by(reductions.c.requested_at, reductions.c.reduction_id)
)


async def _pending_reductions(session: AsyncSession, account_id: str) -> list[Reduction]:
    heads = (await session.execute(_PENDING_REDUCTIONS, {"account_id": account_id})).mappings().all()
    if not heads:
        return []
    rows = await session.execute(
        select(reduction_lines)
        .where(reduction_lines.c.reduction_id.in_([head["reduction_id"] for head in heads]))
        .order_by(reduction_lines.c.line)
    )
    items: dict[str, list[ReducedItem]] = {}
    for row in rows.mappings():
        items.setdefault(row["reduction_id"], []).append(
            ReducedItem(
                row["sku"], row["description"], row["resource"], row["quantity"], row["units"], uf(row["unit_price_uf"])
            )
        )
    return [
        Reduction(
            head["reduction_id"],
            head["request_id"],
            _person(head),
            _aware(head["requested_at"]),
            tuple(items.get(head["reduction_id"], ())),
        )
        for head in heads
    ]


def _aware(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes of what was written in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _aware_or_none(moment: datetime | None) -> datetime | None:
    return None if moment is None else _aware(moment)
