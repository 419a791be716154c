"""The activation history in the store's database: written once per run of carts, read for the plan view.

Every statement works on a set: which of a run's requests were activated before (one query), the
run's activations and their lines (one insert each), the latest activations of every account whose
plan view a transaction changed (one windowed query). Activations are never edited after they are
written, so nothing here locks: the account's row does (``repository.load_accounts``).
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from tienda.store.adapters.rows import aware, uf
from tienda.store.adapters.tables import activation_lines, activations
from tienda.store.domain.activation import ActivatedItem


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


@dataclass(frozen=True)
class HistoryLine:
    sku: str
    description: str
    quantity: int
    unit_price_uf: Decimal


@dataclass(frozen=True)
class HistoryEntry:
    """One activation of an account's history, as it was written."""

    activation_id: str
    request_id: str
    payment_mode: str
    effective_date: date
    activated_at: datetime
    requested_by: Mapping[str, str]
    lines: list[HistoryLine]


@dataclass(frozen=True)
class History:
    """An account's latest activations, newest first, and how many it has in all."""

    entries: list[HistoryEntry]
    total: int


_ACTIVATED = select(activations.c.account_id, activations.c.request_id).where(
    activations.c.account_id.in_(bindparam("account_ids", expanding=True)),
    activations.c.request_id.in_(bindparam("request_ids", expanding=True)),
)


async def activated_requests(session: AsyncSession, requests: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of these (account id, request id) pairs were activated before, in one query."""
    wanted = set(requests)
    if not wanted:
        return set()
    connection = await session.connection()
    rows = await connection.execute(
        _ACTIVATED,
        {"account_ids": sorted({a for a, _ in wanted}), "request_ids": sorted({r for _, r in wanted})},
    )
    return {(account_id, request_id) for account_id, request_id in rows} & wanted


_INSERT_ACTIVATIONS = insert(activations)
_INSERT_LINES = insert(activation_lines)


async def add_activations(session: AsyncSession, added: Sequence[NewActivation]) -> None:
    """The activations and their lines, one insert per table."""
    if not added:
        return
    connection = await session.connection()
    await connection.execute(_INSERT_ACTIVATIONS, [_activation_row(activation) for activation in added])
    await connection.execute(
        _INSERT_LINES,
        [
            {
                "activation_id": activation.activation_id,
                "line": line,
                "sku": item.product.sku,
                "description": item.product.description,
                "quantity": item.quantity,
                "unit_price_uf": item.unit_price_uf,
            }
            for activation in added
            for line, item in enumerate(activation.items, start=1)
        ],
    )


def _activation_row(activation: NewActivation) -> dict[str, Any]:
    who = activation.requested_by
    return {
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
    }


@cache
def _history_query(limit: int | None) -> Any:
    """Each account's activations numbered newest first and counted, the latest ``limit`` kept, with
    their lines: one query for any number of accounts."""
    a, line = activations.c, activation_lines.c
    newest_first = (a.activated_at.desc(), a.activation_id)
    ranked = (
        select(
            a.activation_id,
            a.account_id,
            a.request_id,
            a.payment_mode,
            a.effective_date,
            a.activated_at,
            a.requested_by_user_id,
            a.requested_by_name,
            a.requested_by_email,
            func.row_number().over(partition_by=a.account_id, order_by=newest_first).label("n"),
            func.count().over(partition_by=a.account_id).label("total"),
        )
        .where(a.account_id.in_(bindparam("account_ids", expanding=True)))
        .cte("ranked")
    )
    query = select(ranked, line.sku, line.description, line.quantity, line.unit_price_uf).join(
        activation_lines, line.activation_id == ranked.c.activation_id
    )
    if limit is not None:
        query = query.where(ranked.c.n <= limit)
    return query.order_by(ranked.c.account_id, ranked.c.n, line.line)


async def latest_activations(
    session: AsyncSession, account_ids: Iterable[str], limit: int | None = None
) -> dict[str, History]:
    """By account: its latest ``limit`` activations (all when None), newest first, with their lines,
    and its total; one query for all the accounts (an account without activations is left out)."""
    wanted = sorted(set(account_ids))
    if not wanted:
        return {}
    connection = await session.connection()
    rows = await connection.execute(_history_query(limit), {"account_ids": wanted})
    histories: dict[str, History] = {}
    entries: dict[str, HistoryEntry] = {}
    for row in rows:
        entry = entries.get(row.activation_id)
        if entry is None:
            entry = entries[row.activation_id] = _entry(row)
            history = histories.get(row.account_id)
            if history is None:
                history = histories[row.account_id] = History([], row.total)
            history.entries.append(entry)
        entry.lines.append(HistoryLine(row.sku, row.description, row.quantity, uf(row.unit_price_uf)))
    return histories


@cache
def _latest_ids_query() -> Any:
    """Each account's latest activation ids, newest first, with its total: no lines, no people."""
    a = activations.c
    newest_first = (a.activated_at.desc(), a.activation_id)
    ranked = (
        select(
            a.account_id,
            a.activation_id,
            func.row_number().over(partition_by=a.account_id, order_by=newest_first).label("n"),
            func.count().over(partition_by=a.account_id).label("total"),
        )
        .where(a.account_id.in_(bindparam("account_ids", expanding=True)))
        .cte("ranked")
    )
    return (
        select(ranked.c.account_id, ranked.c.activation_id, ranked.c.total)
        .where(ranked.c.n <= bindparam("limit"))
        .order_by(ranked.c.account_id, ranked.c.n)
    )


async def latest_activation_ids(
    session: AsyncSession, account_ids: Iterable[str], limit: int
) -> dict[str, tuple[list[str], int]]:
    """By account: the ids of its latest ``limit`` activations, newest first, and its total (one query;
    an account without activations is left out)."""
    wanted = sorted(set(account_ids))
    if not wanted:
        return {}
    connection = await session.connection()
    rows = await connection.execute(_latest_ids_query(), {"account_ids": wanted, "limit": limit})
    latest: dict[str, tuple[list[str], int]] = {}
    for account_id, activation_id, total in rows:
        latest.setdefault(account_id, ([], total))[0].append(activation_id)
    return latest


_BY_ID = (
    select(
        activations,
        activation_lines.c.sku,
        activation_lines.c.description,
        activation_lines.c.quantity,
        activation_lines.c.unit_price_uf,
    )
    .join(activation_lines, activation_lines.c.activation_id == activations.c.activation_id)
    .where(activations.c.activation_id.in_(bindparam("activation_ids", expanding=True)))
    .order_by(activations.c.activation_id, activation_lines.c.line)
)


async def activations_by_id(session: AsyncSession, activation_ids: Iterable[str]) -> dict[str, HistoryEntry]:
    """These activations as they were written, with their lines, by id (one query)."""
    wanted = sorted(set(activation_ids))
    if not wanted:
        return {}
    connection = await session.connection()
    entries: dict[str, HistoryEntry] = {}
    for row in await connection.execute(_BY_ID, {"activation_ids": wanted}):
        entry = entries.get(row.activation_id)
        if entry is None:
            entry = entries[row.activation_id] = _entry(row)
        entry.lines.append(HistoryLine(row.sku, row.description, row.quantity, uf(row.unit_price_uf)))
    return entries


def _entry(row: Any) -> HistoryEntry:
    return HistoryEntry(
        row.activation_id,
        row.request_id,
        row.payment_mode,
        row.effective_date,
        aware(row.activated_at),
        {"user_id": row.requested_by_user_id, "name": row.requested_by_name, "email": row.requested_by_email},
        [],
    )
