"""Billing accounts: the plan, its periods, the credit and the suspension; and the revision of
each account's billing view (its snapshots)."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import RowMapping, bindparam, func, insert, literal, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession

from tienda.billing.adapters.rows import first_row
from tienda.billing.adapters.tables import billing_accounts, billing_views, charges, invoices, payments
from tienda.billing.domain.accounts import BillingAccount, Plan
from tienda.billing.domain.charges import ChargeStatus
from tienda.contracts.pricing.periods import Cycle, Period


def _account_of(row: RowMapping) -> BillingAccount:
    plan = Plan(row["plan_code"], row["plan_name"], Cycle(row["cycle"]), row["anchor"], row["plan_price_uf"])
    return BillingAccount(
        row["account_id"],
        plan,
        Period(row["current_period_start"], row["current_period_end"]),
        credit_clp=int(row["credit_clp"]),
        suspended=bool(row["suspended"]),
        suspended_reason=row["suspended_reason"],
    )


def _account_values(account: BillingAccount, now: datetime) -> dict[str, Any]:
    plan = account.plan
    return {
        "plan_code": plan.code,
        "plan_name": plan.name,
        "cycle": plan.cycle.value,
        "anchor": plan.anchor,
        "plan_price_uf": plan.price_uf,
        "current_period_start": account.current_period.start,
        "current_period_end": account.current_period.end,
        "next_renewal": account.next_period.start,
        "suspended": account.suspended,
        "suspended_reason": account.suspended_reason,
        "updated_at": now,
    }


_ACCOUNT = select(billing_accounts).where(billing_accounts.c.account_id == bindparam("account_id"))
_ACCOUNT_FOR_UPDATE = _ACCOUNT.with_for_update()


async def account(session: AsyncSession, account_id: str, *, for_update: bool = False) -> BillingAccount | None:
    query = _ACCOUNT_FOR_UPDATE if for_update else _ACCOUNT
    row = await first_row(session, query, {"account_id": account_id})
    return _account_of(row) if row else None


_ACCOUNTS = select(billing_accounts).where(billing_accounts.c.account_id.in_(bindparam("account_ids", expanding=True)))


async def accounts_by_id(
    session: AsyncSession, account_ids: Iterable[str], *, for_update: bool = False
) -> dict[str, BillingAccount]:
    """The accounts among these ids that billing knows, by id, in one query."""
    wanted = list(account_ids)
    if not wanted:
        return {}
    query = _ACCOUNTS.with_for_update() if for_update else _ACCOUNTS
    rows = (await session.execute(query, {"account_ids": wanted})).mappings()
    return {row["account_id"]: _account_of(row) for row in rows}


async def add_account(session: AsyncSession, account: BillingAccount, now: datetime) -> None:
    await session.execute(
        insert(billing_accounts).values(
            account_id=account.account_id, credit_clp=account.credit_clp, **_account_values(account, now)
        )
    )


async def add_accounts(session: AsyncSession, new: Sequence[BillingAccount], now: datetime) -> None:
    """Many accounts in one multi-row INSERT."""
    rows = [{"account_id": a.account_id, "credit_clp": a.credit_clp, **_account_values(a, now)} for a in new]
    if rows:
        await session.execute(insert(billing_accounts), rows)


async def save_account(session: AsyncSession, account: BillingAccount, now: datetime) -> None:
    """Plan, periods and suspension; never the credit, which only ``add_credit`` and ``set_credit`` change."""
    await session.execute(
        update(billing_accounts)
        .where(billing_accounts.c.account_id == account.account_id)
        .values(**_account_values(account, now))
    )


_SAVE_RENEWED = update(billing_accounts).where(billing_accounts.c.account_id == bindparam("renewed_account_id"))


async def save_accounts(session: AsyncSession, saved: Sequence[BillingAccount], now: datetime) -> None:
    """Many accounts' plan, periods and suspension, and their credit as given (each read with
    ``accounts_by_id(..., for_update=True)`` in this transaction), in one statement."""
    if saved:
        await session.execute(
            _SAVE_RENEWED,
            [
                {"renewed_account_id": a.account_id, "credit_clp": a.credit_clp, **_account_values(a, now)}
                for a in saved
            ],
        )


async def add_credit(session: AsyncSession, account_id: str, amount: int) -> None:
    """Add to the account's credit in the database itself, so that concurrent additions all count."""
    await session.execute(
        update(billing_accounts)
        .where(billing_accounts.c.account_id == account_id)
        .values(credit_clp=billing_accounts.c.credit_clp + amount)
    )


async def set_credit(session: AsyncSession, account_id: str, credit_clp: int) -> None:
    """The credit left after a document used it; read it with ``account(..., for_update=True)`` first."""
    await session.execute(
        update(billing_accounts).where(billing_accounts.c.account_id == account_id).values(credit_clp=credit_clp)
    )


async def accounts_due(session: AsyncSession, on: date, *, after: str = "", limit: int | None = None) -> list[str]:
    """Accounts whose next renewal date has come by ``on``, by account id: the next ``limit`` after
    the id ``after`` (a renewal run walks them chunk by chunk; a renewed account is no longer due)."""
    query = (
        select(billing_accounts.c.account_id)
        .where(billing_accounts.c.next_renewal <= on, billing_accounts.c.account_id > after)
        .order_by(billing_accounts.c.account_id)
        .limit(limit)
    )
    return [row.account_id for row in await session.execute(query)]


async def count_due(session: AsyncSession, on: date) -> int:
    """How many accounts are due for renewal by ``on``."""
    query = select(func.count()).select_from(billing_accounts).where(billing_accounts.c.next_renewal <= on)
    return int(await session.scalar(query) or 0)


# --- the account's billing view -----------------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    invoices: int
    payments: int
    charges_waiting_for_plan: int


async def counts_of(session: AsyncSession, account_ids: Sequence[str]) -> dict[str, Counts]:
    """How many invoices, payments and charges waiting for the plan each of these accounts has, in one query."""
    if not account_ids:
        return {}
    waiting = charges.c.status == ChargeStatus.WAITING_FOR_PLAN.value

    def count(kind: int, table: Any, *conditions: Any) -> Any:
        return (
            select(table.c.account_id, literal(kind).label("kind"), func.count().label("n"))
            .where(table.c.account_id.in_(account_ids), *conditions)
            .group_by(table.c.account_id)
        )

    query = union_all(count(0, invoices), count(1, payments), count(2, charges, waiting))
    found = {account_id: [0, 0, 0] for account_id in account_ids}
    for account_id, kind, n in await session.execute(query):
        found[account_id][int(kind)] = int(n)
    return {account_id: Counts(*numbers) for account_id, numbers in found.items()}


async def next_revisions(session: AsyncSession, account_ids: Sequence[str]) -> dict[str, int]:
    """Each account's next snapshot revision, one more than the last (1 the first time), in two statements."""
    if not account_ids:
        return {}
    bumped = await session.execute(
        update(billing_views)
        .where(billing_views.c.account_id.in_(account_ids))
        .values(revision=billing_views.c.revision + 1)
        .returning(billing_views.c.account_id, billing_views.c.revision)
    )
    revisions = {row.account_id: int(row.revision) for row in bumped}
    first = [account_id for account_id in account_ids if account_id not in revisions]
    if first:
        await session.execute(insert(billing_views), [{"account_id": a, "revision": 1} for a in first])
    return revisions | dict.fromkeys(first, 1)
