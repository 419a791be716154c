"""Online orders: one per online activation, held until the UF value of its date is known,
then priced, paid, invoiced when paid in full, or carried into a renewal invoice."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import RowMapping, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tienda.billing.adapters.rows import Person, first_row, person_columns, person_of
from tienda.billing.adapters.tables import orders
from tienda.billing.domain.documents import Conversion, DocumentStatus
from tienda.billing.domain.payments import Balance
from tienda.contracts.pricing.money import Totals

UNPAID = [status.value for status in DocumentStatus if status.unpaid]


@dataclass(frozen=True)
class OrderRecord:
    order_id: str
    account_id: str
    activation_id: str
    request_id: str
    ordered_by: Person
    order_date: date
    status: DocumentStatus
    uf_date: date
    conversion: Conversion | None
    net_clp: int | None
    iva_clp: int | None
    total_clp: int | None
    paid_clp: int
    carried_into: str | None
    invoice_id: str | None
    held_since: datetime | None

    @property
    def balance(self) -> Balance | None:
        """What the order owes once its amounts are known (None while it is held)."""
        return None if self.total_clp is None else Balance(self.total_clp, 0, self.paid_clp)


def _order_of(row: RowMapping) -> OrderRecord:
    conversion = Conversion(row["uf_date"], row["clp_per_uf"]) if row["clp_per_uf"] is not None else None
    return OrderRecord(
        order_id=row["order_id"],
        account_id=row["account_id"],
        activation_id=row["activation_id"],
        request_id=row["request_id"],
        ordered_by=person_of(row, "ordered_by"),
        order_date=row["order_date"],
        status=DocumentStatus(row["status"]),
        uf_date=row["uf_date"],
        conversion=conversion,
        net_clp=row["net_clp"],
        iva_clp=row["iva_clp"],
        total_clp=row["total_clp"],
        paid_clp=int(row["paid_clp"]),
        carried_into=row["carried_into"],
        invoice_id=row["invoice_id"],
        held_since=row["held_since"],
    )


async def add_order(session: AsyncSession, order: OrderRecord, now: datetime) -> None:
    await session.execute(
        insert(orders).values(
            order_id=order.order_id,
            account_id=order.account_id,
            activation_id=order.activation_id,
            request_id=order.request_id,
            **person_columns("ordered_by", order.ordered_by),
            order_date=order.order_date,
            status=order.status.value,
            uf_date=order.uf_date,
            clp_per_uf=order.conversion.clp_per_uf if order.conversion else None,
            net_clp=order.net_clp,
            iva_clp=order.iva_clp,
            total_clp=order.total_clp,
            paid_clp=order.paid_clp,
            held_since=order.held_since,
            created_at=now,
        )
    )


async def order(session: AsyncSession, account_id: str, order_id: str) -> OrderRecord | None:
    row = await first_row(
        session, select(orders).where(orders.c.account_id == account_id, orders.c.order_id == order_id)
    )
    return _order_of(row) if row else None


async def owner(session: AsyncSession, order_id: str) -> str | None:
    """The account an order belongs to, whichever it is (order ids are unique across accounts)."""
    found: str | None = await session.scalar(select(orders.c.account_id).where(orders.c.order_id == order_id))
    return found


async def orders_where(session: AsyncSession, *conditions: Any) -> list[OrderRecord]:
    rows = await session.execute(select(orders).where(*conditions).order_by(orders.c.order_date, orders.c.created_at))
    return [_order_of(row) for row in rows.mappings()]


async def held_orders(session: AsyncSession, uf_date: date) -> list[OrderRecord]:
    return await orders_where(session, orders.c.status == DocumentStatus.HELD.value, orders.c.uf_date == uf_date)


_UNPAID_OF = (
    select(orders)
    .where(orders.c.account_id.in_(bindparam("account_ids", expanding=True)), orders.c.status.in_(UNPAID))
    .order_by(orders.c.order_date, orders.c.created_at)
)
_PENDING_OF = (
    select(orders)
    .where(orders.c.account_id.in_(bindparam("account_ids", expanding=True)), orders.c.status.in_(UNPAID))
    .order_by(orders.c.order_date.desc(), orders.c.created_at.desc())
)
"""Built once (SQLAlchemy reuses their compiled form), the accounts bound at each call."""


async def unpaid_orders_of(session: AsyncSession, account_ids: Sequence[str]) -> dict[str, list[OrderRecord]]:
    """The unpaid orders of each of these accounts, oldest first, in one query."""
    found: dict[str, list[OrderRecord]] = {account_id: [] for account_id in account_ids}
    if account_ids:
        for row in (await session.execute(_UNPAID_OF, {"account_ids": list(account_ids)})).mappings():
            found[row["account_id"]].append(_order_of(row))
    return found


async def orders_of(session: AsyncSession, account_id: str, *, pending_only: bool = False) -> list[OrderRecord]:
    """The account's orders, newest first; pending: not paid and not carried."""
    query = select(orders).where(orders.c.account_id == account_id)
    if pending_only:
        query = query.where(orders.c.status.in_(UNPAID))
    rows = await session.execute(query.order_by(orders.c.order_date.desc(), orders.c.created_at.desc()))
    return [_order_of(row) for row in rows.mappings()]


async def pending_orders_of(session: AsyncSession, account_ids: Sequence[str]) -> dict[str, list[OrderRecord]]:
    """The pending orders (not paid, not carried) of each of these accounts, newest first, in one query."""
    found: dict[str, list[OrderRecord]] = {account_id: [] for account_id in account_ids}
    if account_ids:
        for row in (await session.execute(_PENDING_OF, {"account_ids": list(account_ids)})).mappings():
            found[row["account_id"]].append(_order_of(row))
    return found


async def price_order(
    session: AsyncSession, order_id: str, conversion: Conversion, totals: Totals, balance: Balance
) -> None:
    """The held order's pesos at ``conversion``, and what earlier payments settled of them."""
    await session.execute(
        update(orders)
        .where(orders.c.order_id == order_id)
        .values(
            status=balance.status.value,
            clp_per_uf=conversion.clp_per_uf,
            net_clp=totals.net,
            iva_clp=totals.iva,
            total_clp=totals.total,
            paid_clp=balance.paid,
            held_since=None,
        )
    )


async def pay_order(session: AsyncSession, order_id: str, paid_clp: int, status: DocumentStatus) -> None:
    """What the order's payments add up to, and its status after them."""
    await session.execute(
        update(orders).where(orders.c.order_id == order_id).values(paid_clp=paid_clp, status=status.value)
    )


async def set_order_invoice(session: AsyncSession, order_id: str, invoice_id: str) -> None:
    await session.execute(update(orders).where(orders.c.order_id == order_id).values(invoice_id=invoice_id))


async def carry_orders(session: AsyncSession, order_ids: Sequence[str], invoice_id: str) -> None:
    """Unpaid orders closed as carried into the renewal invoice ``invoice_id``."""
    if order_ids:
        await session.execute(
            update(orders)
            .where(orders.c.order_id.in_(order_ids))
            .values(status=DocumentStatus.CARRIED.value, carried_into=invoice_id, held_since=None)
        )


_CARRY_ORDER = (
    update(orders)
    .where(orders.c.order_id == bindparam("carried_order_id"))
    .values(status=DocumentStatus.CARRIED.value, held_since=None)
)


async def carry_orders_into(session: AsyncSession, carried: Sequence[tuple[str, str]]) -> None:
    """``carry_orders`` of many renewal invoices: (order id, invoice id) pairs, in one statement."""
    if carried:
        await session.execute(
            _CARRY_ORDER, [{"carried_order_id": order, "carried_into": invoice} for order, invoice in carried]
        )


async def old_holds(session: AsyncSession, cutoff: datetime) -> list[OrderRecord]:
    """Held orders not yet alerted on, held since before ``cutoff``."""
    return await orders_where(
        session,
        orders.c.status == DocumentStatus.HELD.value,
        orders.c.held_since < cutoff,
        orders.c.hold_alerted_at.is_(None),
    )


async def mark_hold_alerted(session: AsyncSession, order_ids: Sequence[str], now: datetime) -> None:
    if order_ids:
        await session.execute(update(orders).where(orders.c.order_id.in_(order_ids)).values(hold_alerted_at=now))
