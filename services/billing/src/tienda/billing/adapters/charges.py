"""Charges (one per activation line, where it is billed and on which document) and the
reductions that take units off them from a renewal on.

The statements every ChargeScheduled runs are built once with bound parameters (SQLAlchemy
then reuses their compiled form by identity instead of rebuilding and hashing them per call).
Updates of many charges are one statement with many parameter sets, so that a caller that
handles many accounts (renewal) can hand them all at once."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import RowMapping, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tienda.billing.adapters.rows import Person, person_columns, person_of
from tienda.billing.adapters.tables import charges, reductions
from tienda.billing.domain.charges import Charge, ChargeStatus, PaymentMode, PlacedCharge, Reduction
from tienda.billing.domain.documents import Conversion
from tienda.contracts.pricing.periods import Period

ChargeKey = tuple[str, int]
"""A charge: its activation id and line."""


@dataclass(frozen=True)
class ChargeRecord:
    """A stored charge: the domain charge and where it stands."""

    account_id: str
    charge: Charge
    status: ChargeStatus
    request_id: str
    requested_by: Person
    period: Period | None = None
    months: int | None = None
    order_id: str | None = None
    invoice_id: str | None = None
    recurring_through: date | None = None

    @property
    def key(self) -> ChargeKey:
        return (self.charge.activation_id, self.charge.line)

    def placed(self, reductions_of: Sequence[Reduction] = (), conversion: Conversion | None = None) -> PlacedCharge:
        if self.period is None or self.months is None:
            raise ValueError(f"charge {self.charge.activation_id}/{self.charge.line} has no period yet")
        return PlacedCharge(
            self.charge,
            self.period,
            self.months,
            order_conversion=conversion,
            order_id=self.order_id,
            recurring_through=self.recurring_through,
            reductions=tuple(reductions_of),
        )


def _charge_record(row: RowMapping) -> ChargeRecord:
    charge = Charge(
        activation_id=row["activation_id"],
        line=row["line"],
        sku=row["sku"],
        description=row["description"],
        quantity=row["quantity"],
        unit_price_uf=row["unit_price_uf"],
        effective_date=row["effective_date"],
        payment_mode=PaymentMode(row["payment_mode"]),
    )
    return ChargeRecord(
        account_id=row["account_id"],
        charge=charge,
        status=ChargeStatus(row["status"]),
        request_id=row["request_id"] or "",
        requested_by=person_of(row, "requested_by"),
        period=Period(row["period_start"], row["period_end"]) if row["period_start"] else None,
        months=row["months"],
        order_id=row["order_id"],
        invoice_id=row["invoice_id"],
        recurring_through=row["recurring_through"],
    )


_ACTIVATIONS_RECORDED = (
    select(charges.c.activation_id)
    .where(charges.c.activation_id.in_(bindparam("activation_ids", expanding=True)))
    .distinct()
)
_CHARGE_ORDER = (charges.c.effective_date, charges.c.recorded_at, charges.c.line)
_INSERT_CHARGES = insert(charges)
_WHERE_CHARGE = (
    charges.c.activation_id == bindparam("charge_activation_id"),
    charges.c.line == bindparam("charge_line"),
)
_PLACE_CHARGE = update(charges).where(*_WHERE_CHARGE)


def _where(key: ChargeKey) -> dict[str, Any]:
    return {"charge_activation_id": key[0], "charge_line": key[1]}


async def activations_recorded(session: AsyncSession, activation_ids: Iterable[str]) -> set[str]:
    """Which of these activations already have their charges, in one query."""
    wanted = list(activation_ids)
    if not wanted:
        return set()
    return set(await session.scalars(_ACTIVATIONS_RECORDED, {"activation_ids": wanted}))


def _placement(record: ChargeRecord) -> dict[str, Any]:
    return {
        "status": record.status.value,
        "period_start": record.period.start if record.period else None,
        "period_end": record.period.end if record.period else None,
        "months": record.months,
        "order_id": record.order_id,
    }


async def add_charges(session: AsyncSession, records: Sequence[tuple[ChargeRecord, str]], now: datetime) -> None:
    """Record new charges as they stand (waiting for the plan, or already placed), each with the
    event id that scheduled it, in one statement."""
    if not records:
        return
    await session.execute(
        _INSERT_CHARGES,
        [
            {
                "activation_id": record.charge.activation_id,
                "line": record.charge.line,
                "account_id": record.account_id,
                "sku": record.charge.sku,
                "description": record.charge.description,
                "quantity": record.charge.quantity,
                "unit_price_uf": record.charge.unit_price_uf,
                "effective_date": record.charge.effective_date,
                "payment_mode": record.charge.payment_mode.value,
                "event_id": event_id,
                "recorded_at": now,
                "request_id": record.request_id,
                **person_columns("requested_by", record.requested_by),
                **_placement(record),
            }
            for record, event_id in records
        ],
    )


async def place_charges(session: AsyncSession, placed: Sequence[ChargeRecord]) -> None:
    """Charges that waited for the plan, now in their period (status, period, months, order)."""
    if placed:
        await session.execute(_PLACE_CHARGE, [{**_where(record.key), **_placement(record)} for record in placed])


async def invoice_charges(session: AsyncSession, keys: Sequence[ChargeKey], invoice_id: str) -> None:
    """These charges are on ``invoice_id`` now."""
    if keys:
        values = {"status": ChargeStatus.INVOICED.value, "invoice_id": invoice_id}
        await session.execute(_PLACE_CHARGE, [{**_where(key), **values} for key in keys])


async def invoice_order_charges(session: AsyncSession, order_ids: Sequence[str], invoice_id: str) -> None:
    """The charges of these orders are on ``invoice_id`` now (the order's own invoice, or a renewal's)."""
    if order_ids:
        await session.execute(
            update(charges)
            .where(charges.c.order_id.in_(order_ids))
            .values(status=ChargeStatus.INVOICED.value, invoice_id=invoice_id)
        )


async def mark_recurring(session: AsyncSession, keys: Sequence[ChargeKey], through: date) -> None:
    """The add-on amount of these charges is invoiced through the period starting ``through``."""
    if keys:
        await session.execute(_PLACE_CHARGE, [{**_where(key), "recurring_through": through} for key in keys])


_INVOICE_ORDER_CHARGES = (
    update(charges).where(charges.c.order_id == bindparam("charge_order_id")).values(status=ChargeStatus.INVOICED.value)
)


async def invoice_charges_into(session: AsyncSession, keys: Sequence[tuple[ChargeKey, str]]) -> None:
    """``invoice_charges`` of many invoices: (charge key, invoice id) pairs, in one statement."""
    if keys:
        values = {"status": ChargeStatus.INVOICED.value}
        await session.execute(_PLACE_CHARGE, [{**_where(key), **values, "invoice_id": i} for key, i in keys])


async def invoice_order_charges_into(session: AsyncSession, order_ids: Sequence[tuple[str, str]]) -> None:
    """``invoice_order_charges`` of many invoices: (order id, invoice id) pairs, in one statement."""
    if order_ids:
        await session.execute(
            _INVOICE_ORDER_CHARGES, [{"charge_order_id": order_id, "invoice_id": i} for order_id, i in order_ids]
        )


async def mark_recurring_through(session: AsyncSession, keys: Sequence[tuple[ChargeKey, date]]) -> None:
    """``mark_recurring`` of many invoices: (charge key, period start) pairs, in one statement."""
    if keys:
        await session.execute(_PLACE_CHARGE, [{**_where(key), "recurring_through": through} for key, through in keys])


async def charges_where(session: AsyncSession, *conditions: Any) -> list[ChargeRecord]:
    rows = await session.execute(select(charges).where(*conditions).order_by(*_CHARGE_ORDER))
    return [_charge_record(row) for row in rows.mappings()]


async def waiting_charges(session: AsyncSession, account_id: str) -> list[ChargeRecord]:
    return await charges_where(
        session, charges.c.account_id == account_id, charges.c.status == ChargeStatus.WAITING_FOR_PLAN.value
    )


async def order_charges(session: AsyncSession, order_id: str) -> list[ChargeRecord]:
    return await charges_where(session, charges.c.order_id == order_id)


_PLACED_OF = (
    select(charges)
    .where(
        charges.c.account_id.in_(bindparam("account_ids", expanding=True)),
        charges.c.status != ChargeStatus.WAITING_FOR_PLAN.value,
    )
    .order_by(*_CHARGE_ORDER)
)
_OF_ORDERS = (
    select(charges).where(charges.c.order_id.in_(bindparam("order_ids", expanding=True))).order_by(*_CHARGE_ORDER)
)


async def placed_charges_of(session: AsyncSession, account_ids: Sequence[str]) -> dict[str, list[ChargeRecord]]:
    """The charges of each of these accounts that are placed in a period (not waiting for the plan),
    in one query: renewal picks those paid at renewal and those whose add-on amount recurs among them."""
    found: dict[str, list[ChargeRecord]] = {account_id: [] for account_id in account_ids}
    if account_ids:
        for row in (await session.execute(_PLACED_OF, {"account_ids": list(account_ids)})).mappings():
            record = _charge_record(row)
            found[record.account_id].append(record)
    return found


async def charges_of_orders(session: AsyncSession, order_ids: Sequence[str]) -> dict[str, list[ChargeRecord]]:
    """``order_charges`` of each of these orders, in one query."""
    found: dict[str, list[ChargeRecord]] = {order_id: [] for order_id in order_ids}
    if order_ids:
        for row in (await session.execute(_OF_ORDERS, {"order_ids": list(order_ids)})).mappings():
            record = _charge_record(row)
            if record.order_id is not None:
                found[record.order_id].append(record)
    return found


async def charges_of_sku(session: AsyncSession, account_id: str, sku: str) -> list[ChargeRecord]:
    return await charges_where(session, charges.c.account_id == account_id, charges.c.sku == sku)


async def charges_of(session: AsyncSession, account_id: str) -> list[ChargeRecord]:
    """Every charge of the account, in the order billing recorded them."""
    rows = await session.execute(
        select(charges).where(charges.c.account_id == account_id).order_by(charges.c.recorded_at, charges.c.line)
    )
    return [_charge_record(row) for row in rows.mappings()]


# --- reductions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReductionRow:
    """Units of one SKU a reduction takes off one charge from ``effective_from`` (None: the account's
    plan has not reached billing yet); ``charge`` None: units billing never charged (nothing to take)."""

    reduction_id: str
    position: int
    account_id: str
    sku: str
    quantity: int
    charge: ChargeKey | None
    effective_from: date | None


async def reduction_recorded(session: AsyncSession, reduction_id: str) -> bool:
    found = await session.scalar(select(reductions.c.reduction_id).where(reductions.c.reduction_id == reduction_id))
    return found is not None


async def add_reductions(session: AsyncSession, rows: Sequence[ReductionRow], now: datetime) -> None:
    if rows:
        await session.execute(
            insert(reductions),
            [
                {
                    "reduction_id": row.reduction_id,
                    "position": row.position,
                    "account_id": row.account_id,
                    "sku": row.sku,
                    "quantity": row.quantity,
                    "activation_id": row.charge[0] if row.charge else None,
                    "activation_line": row.charge[1] if row.charge else None,
                    "effective_from": row.effective_from,
                    "recorded_at": now,
                }
                for row in rows
            ],
        )


_REDUCTIONS_OF = select(reductions).where(
    reductions.c.account_id.in_(bindparam("account_ids", expanding=True)),
    reductions.c.activation_id.is_not(None),
    reductions.c.effective_from.is_not(None),
)


async def reductions_of(
    session: AsyncSession, account_ids: Sequence[str]
) -> dict[str, dict[ChargeKey, list[Reduction]]]:
    """The reductions in force on each charge (those with a date to start from) of each of these
    accounts, in one query."""
    found: dict[str, dict[ChargeKey, list[Reduction]]] = {account_id: {} for account_id in account_ids}
    if account_ids:
        rows = await session.execute(_REDUCTIONS_OF, {"account_ids": list(account_ids)})
        for row in rows.mappings():
            key = (row["activation_id"], row["activation_line"])
            found[row["account_id"]].setdefault(key, []).append(Reduction(row["quantity"], row["effective_from"]))
    return found


async def units_taken(session: AsyncSession, account_id: str) -> dict[ChargeKey, int]:
    """Units every reduction took off each charge so far, in force or waiting for the plan."""
    rows = await session.execute(
        select(reductions.c.activation_id, reductions.c.activation_line, func.sum(reductions.c.quantity))
        .where(reductions.c.account_id == account_id, reductions.c.activation_id.is_not(None))
        .group_by(reductions.c.activation_id, reductions.c.activation_line)
    )
    return {(row[0], row[1]): int(row[2]) for row in rows}


async def start_waiting_reductions(session: AsyncSession, account_id: str, effective_from: date) -> None:
    """Reductions that reached billing before the account's plan take effect from ``effective_from``."""
    await session.execute(
        update(reductions)
        .where(
            reductions.c.account_id == account_id,
            reductions.c.activation_id.is_not(None),
            reductions.c.effective_from.is_(None),
        )
        .values(effective_from=effective_from)
    )
