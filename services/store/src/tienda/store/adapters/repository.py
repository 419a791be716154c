"""Reading and writing the store's tables inside a unit of work (the activation history:
``activations.py``; requests waiting for a plan: ``waiting.py``).

Statements are built once, at import, with bound parameters (expanding ones for sets of ids):
SQLAlchemy then finds them compiled by identity instead of rebuilding and hashing them per call.
The hot ones run on the transaction's Core connection, not through the ORM session, and work on
sets: the accounts of a run of carts are read in three or four queries and written in one
statement per table. The catalog in force on a day is read once per transaction
(``session.info``), so a batch of carts reads it once; so is an account loaded for a change: the
next message of that account in the batch finds it as the last one left it (every change is
written before the handler returns, and a failure rolls the whole transaction, and this session,
back).
"""

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import BindParameter, RowMapping, bindparam, delete, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from tienda.store.adapters.rows import aware, aware_or_none, uf
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
from tienda.store.domain.catalog import CatalogVersion, Product
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


# --------------------------------------------------------------------------- catalog


def product_of_row(row: RowMapping) -> Product:
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


_VERSION_ON = (
    select(catalog_versions.c.version, catalog_versions.c.loaded_at, catalog_versions.c.source)
    .where(catalog_versions.c.effective_from <= bindparam("day"))
    .order_by(catalog_versions.c.effective_from.desc())
    .limit(1)
)
_ITEMS_OF = select(catalog_items).where(catalog_items.c.version == bindparam("version"))

_VERSIONS_KEPT = 16
_products_of_version: dict[tuple[str, str, Any, str], dict[str, Product]] = {}
"""A version's products by (database, version, loaded_at, source), across transactions: a loaded
version never changes (``load_catalog`` refuses other content under its name), so the one row
naming the version in force is all a transaction reads once the process has seen it."""


async def catalog_on(session: AsyncSession, day: date) -> dict[str, Product]:
    """The products of the catalog version in force on ``day``, by SKU (read once per transaction;
    the version's items once per process)."""
    known: dict[date, dict[str, Product]] = session.info.setdefault("catalog_on", {})
    if day not in known:
        connection = await session.connection()
        head = (await connection.execute(_VERSION_ON, {"day": day})).first()
        if head is None:
            known[day] = {}
        else:
            key = (str(connection.engine.url), head.version, head.loaded_at, head.source)
            products = _products_of_version.get(key)
            if products is None:
                rows = await connection.execute(_ITEMS_OF, {"version": head.version})
                products = {row["sku"]: product_of_row(row) for row in rows.mappings()}
                if len(_products_of_version) >= _VERSIONS_KEPT:
                    _products_of_version.clear()
                _products_of_version[key] = products
            known[day] = products
    return dict(known[day])


async def products_as_last_sold(session: AsyncSession, skus: Iterable[str], day: date) -> dict[str, Product]:
    """Each SKU as the latest catalog version in force by ``day`` that sold it (even if it sells it no more)."""
    rows = await session.execute(
        select(catalog_items)
        .join(catalog_versions, catalog_versions.c.version == catalog_items.c.version)
        .where(catalog_items.c.sku.in_(list(skus)), catalog_versions.c.effective_from <= day)
        .order_by(catalog_versions.c.effective_from)
    )
    return {row["sku"]: product_of_row(row) for row in rows.mappings()}


async def catalog_version(session: AsyncSession, version: str) -> CatalogVersion | None:
    head = (await session.execute(select(catalog_versions).where(catalog_versions.c.version == version))).mappings()
    found = head.first()
    if found is None:
        return None
    rows = await session.execute(
        select(catalog_items).where(catalog_items.c.version == version).order_by(catalog_items.c.sku)
    )
    products = tuple(product_of_row(row) for row in rows.mappings())
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


_IN_ACCOUNTS: BindParameter[list[str]] = bindparam("account_ids", expanding=True)
_ACCOUNTS = (
    select(account_plans).where(account_plans.c.account_id.in_(_IN_ACCOUNTS)).order_by(account_plans.c.account_id)
)
_ACCOUNTS_LOCKED = _ACCOUNTS.with_for_update()
_HOLDINGS = select(entitlements).where(entitlements.c.account_id.in_(_IN_ACCOUNTS))


def _locked_accounts(session: AsyncSession) -> dict[str, Account]:
    """The accounts this transaction loaded for a change, by id."""
    locked: dict[str, Account] = session.info.setdefault("store_locked_accounts", {})
    return locked


async def load_account(session: AsyncSession, account_id: str, *, lock: bool = False) -> Account | None:
    """The account with its holdings and pending reductions (``load_accounts``), or None."""
    return (await load_accounts(session, [account_id], lock=lock)).get(account_id)


async def load_accounts(session: AsyncSession, account_ids: Iterable[str], *, lock: bool = False) -> dict[str, Account]:
    """The accounts among ``account_ids`` that the store has a plan for, by id, with their holdings
    and pending reductions: three queries (four with pending reductions) for any number of them.

    ``lock``: until the transaction ends, and read once in it (the same object is handed to every
    later handler of the transaction). PostgreSQL locks the rows ``FOR UPDATE`` in account order, so
    two transactions that lock several accounts never wait for each other in a circle; SQLite's
    writers already run one at a time."""
    locked = _locked_accounts(session)
    wanted = set(account_ids)
    found = {account_id: locked[account_id] for account_id in wanted & locked.keys()} if lock else {}
    unread = sorted(wanted - found.keys())
    if not unread:
        return found
    connection = await session.connection()
    query = _ACCOUNTS_LOCKED if lock else _ACCOUNTS
    heads = (await connection.execute(query, {"account_ids": unread})).mappings().all()
    if not heads:
        return found
    read = [head["account_id"] for head in heads]
    holdings = await _holdings_of(connection, read)
    pending = await pending_reductions(connection, read)
    for head in heads:
        account_id = head["account_id"]
        found[account_id] = account_of_row(head, holdings.get(account_id, {}), pending.get(account_id, []))
        if lock:
            locked[account_id] = found[account_id]
    return found


def account_of_row(head: RowMapping, holdings: dict[str, Holding], pending: list[Reduction]) -> Account:
    plan = Plan(
        head["plan_code"], head["plan_name"], head["billing_cycle"], head["renewal_anchor"], uf(head["plan_price_uf"])
    )
    return Account(
        head["account_id"],
        plan,
        Status(head["status"]),
        head["suspended_reason"],
        holdings,
        pending,
        head["revision"],
        _saved(holdings),
        since=aware_or_none(head["since"]),
        restated_at=aware_or_none(head["restated_at"]),
        restated_by=head["restated_by_event_id"],
        status_since=aware_or_none(head["status_since"]),
    )


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
    holdings = (await _holdings_of(await session.connection(), [account_id])).get(account_id, {})
    account = Account(account_id, plan, holdings=holdings, saved=_saved(holdings))
    _locked_accounts(session)[account_id] = account
    return account


async def _holdings_of(connection: AsyncConnection, account_ids: list[str]) -> dict[str, dict[str, Holding]]:
    holdings: dict[str, dict[str, Holding]] = {}
    for row in (await connection.execute(_HOLDINGS, {"account_ids": account_ids})).mappings():
        holdings.setdefault(row["account_id"], {})[row["resource"]] = Holding(
            row["resource"], row["included"], row["purchased"]
        )
    return holdings


def _saved(holdings: Mapping[str, Holding]) -> dict[str, tuple[int, int]]:
    return {resource: (holding.included, holding.purchased) for resource, holding in holdings.items()}


_INSERT_ACCOUNT = insert(account_plans)
_UPDATE_ACCOUNT = update(account_plans).where(account_plans.c.account_id == bindparam("saved_account_id"))
_DELETE_HOLDING = delete(entitlements).where(
    entitlements.c.account_id == bindparam("holder_account_id"),
    entitlements.c.resource == bindparam("held_resource"),
)


async def save_account(session: AsyncSession, account: Account, at: datetime, *, new: bool) -> None:
    """Write the account's plan, status, revision and holdings (``new``: its row is inserted)."""
    await save_accounts(session, [account], at, new=new)


async def save_accounts(session: AsyncSession, accounts: Sequence[Account], at: datetime, *, new: bool = False) -> None:
    """Write each account's plan, status, revision and the holdings that changed since it was read
    (or last written): one statement per table for all of them."""
    if not accounts:
        return
    connection = await session.connection()
    if new:
        rows = [{"account_id": account.account_id, **_plan_row(account, at)} for account in accounts]
        await connection.execute(_INSERT_ACCOUNT, rows)
    else:
        rows = [{"saved_account_id": account.account_id, **_plan_row(account, at)} for account in accounts]
        await connection.execute(_UPDATE_ACCOUNT, rows)
    await _save_holdings(connection, accounts)


def _plan_row(account: Account, at: datetime) -> dict[str, Any]:
    return {
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


async def _save_holdings(connection: AsyncConnection, accounts: Sequence[Account]) -> None:
    """The holdings that changed: those gone deleted, the others upserted."""
    gone = [
        {"holder_account_id": account.account_id, "held_resource": resource}
        for account in accounts
        for resource in sorted(account.saved.keys() - account.holdings.keys())
    ]
    changed = [
        {
            "account_id": account.account_id,
            "resource": resource,
            "quantity": holding.total(),
            "included": holding.included,
            "purchased": holding.purchased,
        }
        for account in accounts
        for resource, holding in account.holdings.items()
        if account.saved.get(resource) != (holding.included, holding.purchased)
    ]
    if gone:
        await connection.execute(_DELETE_HOLDING, gone)
    if changed:
        await connection.execute(_upsert_holdings(connection.dialect.name), changed)
    for account in accounts:
        account.saved = _saved(account.holdings)


@cache
def _upsert_holdings(dialect: str) -> Any:
    """INSERT ... ON CONFLICT (account_id, resource) DO UPDATE, in the dialect's words."""
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(entitlements)
    return statement.on_conflict_do_update(
        index_elements=[entitlements.c.account_id, entitlements.c.resource],
        set_={column: statement.excluded[column] for column in ("quantity", "included", "purchased")},
    )


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


_STATUS_HISTORIES = (
    select(status_changes)
    .where(status_changes.c.account_id.in_(_IN_ACCOUNTS))
    .order_by(status_changes.c.occurred_at, status_changes.c.event_id)
)


async def status_histories(session: AsyncSession, account_ids: Iterable[str]) -> dict[str, list[StatusChange]]:
    """By account: its suspensions and reinstatements, in the order they occurred (one query)."""
    wanted = sorted(set(account_ids))
    histories: dict[str, list[StatusChange]] = {account_id: [] for account_id in wanted}
    if not wanted:
        return histories
    connection = await session.connection()
    for row in (await connection.execute(_STATUS_HISTORIES, {"account_ids": wanted})).mappings():
        standing = Standing(Status(row["status"]), row["reason"])
        histories[row["account_id"]].append(StatusChange(aware(row["occurred_at"]), standing))
    return histories


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
    .where(reductions.c.account_id.in_(_IN_ACCOUNTS), reductions.c.status == SCHEDULED)
    .order_by(reductions.c.requested_at, reductions.c.reduction_id)
)
_REDUCTION_LINES = (
    select(reduction_lines)
    .where(reduction_lines.c.reduction_id.in_(bindparam("reduction_ids", expanding=True)))
    .order_by(reduction_lines.c.line)
)


async def pending_reductions(connection: AsyncConnection, account_ids: list[str]) -> dict[str, list[Reduction]]:
    """By account: the reductions scheduled for its next renewal, in the order they were requested."""
    heads = (await connection.execute(_PENDING_REDUCTIONS, {"account_ids": account_ids})).mappings().all()
    if not heads:
        return {}
    rows = await connection.execute(_REDUCTION_LINES, {"reduction_ids": [head["reduction_id"] for head in heads]})
    items: dict[str, list[ReducedItem]] = {}
    for row in rows.mappings():
        items.setdefault(row["reduction_id"], []).append(
            ReducedItem(
                row["sku"], row["description"], row["resource"], row["quantity"], row["units"], uf(row["unit_price_uf"])
            )
        )
    pending: dict[str, list[Reduction]] = {}
    for head in heads:
        pending.setdefault(head["account_id"], []).append(
            Reduction(
                head["reduction_id"],
                head["request_id"],
                _person(head),
                aware(head["requested_at"]),
                tuple(items.get(head["reduction_id"], ())),
            )
        )
    return pending


def _person(row: RowMapping) -> dict[str, str]:
    return {
        "user_id": row["requested_by_user_id"],
        "name": row["requested_by_name"],
        "email": row["requested_by_email"],
    }
