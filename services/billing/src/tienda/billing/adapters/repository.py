"""Reading and writing billing's tables inside a unit of work: rows in, domain objects out.

The statements every ChargeScheduled runs are built once with bound parameters (SQLAlchemy
then reuses their compiled form by identity instead of rebuilding and hashing them per call)."""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import RowMapping, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tienda.billing.adapters.tables import (
    billing_accounts,
    billing_data,
    billing_data_submissions,
    billing_views,
    cards,
    charges,
    invoice_lines,
    invoices,
    orders,
    payment_failures,
    payment_requests,
    payments,
    reductions,
    uf_values,
)
from tienda.billing.domain.accounts import BillingAccount, Plan
from tienda.billing.domain.billing_data import BillingData
from tienda.billing.domain.charges import Charge, ChargeStatus, PaymentMode, PlacedCharge, Reduction
from tienda.billing.domain.documents import Conversion, DocumentStatus, Line, LineKind, PricedLine
from tienda.billing.domain.periods import Cycle, Period

UF_QUANTUM = Decimal("0.0001")
UF_VALUE_QUANTUM = Decimal("0.01")

Person = Mapping[str, str]


def aware(moment: datetime | None) -> datetime | None:
    """A stored moment in UTC (SQLite gives it back without its zone)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _uf(value: Any) -> Decimal:
    return Decimal(value).quantize(UF_QUANTUM)


def _uf_value(value: Any) -> Decimal:
    return Decimal(value).quantize(UF_VALUE_QUANTUM)


def person_columns(prefix: str, who: Person) -> dict[str, str]:
    return {f"{prefix}_user_id": who["user_id"], f"{prefix}_name": who["name"], f"{prefix}_email": who["email"]}


def person_of(row: RowMapping, prefix: str) -> dict[str, str]:
    return {
        "user_id": row[f"{prefix}_user_id"] or "unknown",
        "name": row[f"{prefix}_name"] or "unknown",
        "email": row[f"{prefix}_email"] or "unknown@invalid.cl",
    }


async def _first_row(session: AsyncSession, query: Any, params: Mapping[str, Any] | None = None) -> RowMapping | None:
    """The first row of ``query`` by column name, or None."""
    return (await session.execute(query, params)).mappings().first()


# --- billing accounts ---------------------------------------------------------------------------


def _account_of(row: RowMapping) -> BillingAccount:
    plan = Plan(row["plan_code"], row["plan_name"], Cycle(row["cycle"]), row["anchor"], _uf(row["plan_price_uf"]))
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
    row = await _first_row(session, query, {"account_id": account_id})
    return _account_of(row) if row else None


async def add_account(session: AsyncSession, account: BillingAccount, now: datetime) -> None:
    await session.execute(
        insert(billing_accounts).values(
            account_id=account.account_id, credit_clp=account.credit_clp, **_account_values(account, now)
        )
    )


async def save_account(session: AsyncSession, account: BillingAccount, now: datetime) -> None:
    """Plan, periods and suspension; never the credit, which only ``add_credit`` and ``use_credit`` change."""
    await session.execute(
        update(billing_accounts)
        .where(billing_accounts.c.account_id == account.account_id)
        .values(**_account_values(account, now))
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


async def accounts_due(session: AsyncSession, on: date) -> list[str]:
    """Accounts whose next renewal date has come by ``on``."""
    rows = await session.execute(
        select(billing_accounts.c.account_id)
        .where(billing_accounts.c.next_renewal <= on)
        .order_by(billing_accounts.c.next_renewal, billing_accounts.c.account_id)
    )
    return [row.account_id for row in rows]


# --- UF values ----------------------------------------------------------------------------------


async def uf_value(session: AsyncSession, day: date) -> Conversion | None:
    value = await session.scalar(select(uf_values.c.clp_per_uf).where(uf_values.c.uf_date == day))
    return Conversion(day, _uf_value(value)) if value is not None else None


async def add_uf_value(session: AsyncSession, conversion: Conversion, event_id: str, now: datetime) -> None:
    await session.execute(
        insert(uf_values).values(
            uf_date=conversion.uf_date, clp_per_uf=conversion.clp_per_uf, event_id=event_id, recorded_at=now
        )
    )


# --- charges ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChargeRecord:
    """A stored charge: the domain charge and where it stands."""

    account_id: str
    charge: Charge
    status: ChargeStatus
    request_id: str
    requested_by: dict[str, str]
    period: Period | None
    months: int | None
    order_id: str | None
    invoice_id: str | None
    recurring_through: date | None

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
        unit_price_uf=_uf(row["unit_price_uf"]),
        effective_date=row["effective_date"],
        payment_mode=PaymentMode(row["payment_mode"]),
    )
    period = Period(row["period_start"], row["period_end"]) if row["period_start"] else None
    return ChargeRecord(
        account_id=row["account_id"],
        charge=charge,
        status=ChargeStatus(row["status"]),
        request_id=row["request_id"] or "",
        requested_by=person_of(row, "requested_by"),
        period=period,
        months=row["months"],
        order_id=row["order_id"],
        invoice_id=row["invoice_id"],
        recurring_through=row["recurring_through"],
    )


_ACTIVATION_RECORDED = select(charges.c.activation_id).where(charges.c.activation_id == bindparam("activation_id"))
_CHARGE_ORDER = (charges.c.effective_date, charges.c.recorded_at, charges.c.line)
_ACTIVATION_CHARGES = (
    select(charges).where(charges.c.activation_id == bindparam("activation_id")).order_by(*_CHARGE_ORDER)
)
_INSERT_CHARGES = insert(charges)
_UPDATE_CHARGE = update(charges).where(
    charges.c.activation_id == bindparam("charge_activation_id"), charges.c.line == bindparam("charge_line")
)


async def activation_recorded(session: AsyncSession, activation_id: str) -> bool:
    found = await session.scalar(_ACTIVATION_RECORDED, {"activation_id": activation_id})
    return found is not None


@dataclass(frozen=True)
class NewCharges:
    account_id: str
    request_id: str
    requested_by: Person
    event_id: str
    charges: Sequence[Charge]


async def add_charges(session: AsyncSession, new: NewCharges, now: datetime) -> None:
    await session.execute(
        _INSERT_CHARGES,
        [
            {
                "activation_id": charge.activation_id,
                "line": charge.line,
                "account_id": new.account_id,
                "sku": charge.sku,
                "description": charge.description,
                "quantity": charge.quantity,
                "unit_price_uf": charge.unit_price_uf,
                "effective_date": charge.effective_date,
                "payment_mode": charge.payment_mode.value,
                "event_id": new.event_id,
                "recorded_at": now,
                "status": ChargeStatus.WAITING_FOR_PLAN.value,
                "request_id": new.request_id,
                **person_columns("requested_by", new.requested_by),
            }
            for charge in new.charges
        ],
    )


async def charges_where(session: AsyncSession, *conditions: Any) -> list[ChargeRecord]:
    rows = await session.execute(select(charges).where(*conditions).order_by(*_CHARGE_ORDER))
    return [_charge_record(row) for row in rows.mappings()]


async def waiting_charges(session: AsyncSession, account_id: str) -> list[ChargeRecord]:
    return await charges_where(
        session, charges.c.account_id == account_id, charges.c.status == ChargeStatus.WAITING_FOR_PLAN.value
    )


async def activation_charges(session: AsyncSession, activation_id: str) -> list[ChargeRecord]:
    rows = await session.execute(_ACTIVATION_CHARGES, {"activation_id": activation_id})
    return [_charge_record(row) for row in rows.mappings()]


async def order_charges(session: AsyncSession, order_id: str) -> list[ChargeRecord]:
    return await charges_where(session, charges.c.order_id == order_id)


async def pending_renewal_charges(session: AsyncSession, account_id: str, before: date) -> list[ChargeRecord]:
    return await charges_where(
        session,
        charges.c.account_id == account_id,
        charges.c.status == ChargeStatus.PENDING_RENEWAL.value,
        charges.c.period_start < before,
    )


async def recurring_charges(session: AsyncSession, account_id: str, before: date) -> list[ChargeRecord]:
    """Charges of periods that ended before ``before``: their add-on amount recurs."""
    return await charges_where(
        session,
        charges.c.account_id == account_id,
        charges.c.status != ChargeStatus.WAITING_FOR_PLAN.value,
        charges.c.period_end < before,
    )


async def charges_of_sku(session: AsyncSession, account_id: str, sku: str) -> list[ChargeRecord]:
    return await charges_where(session, charges.c.account_id == account_id, charges.c.sku == sku)


async def update_charge(session: AsyncSession, activation_id: str, line: int, **values: Any) -> None:
    await session.execute(_UPDATE_CHARGE, {"charge_activation_id": activation_id, "charge_line": line, **values})


async def update_order_charges(session: AsyncSession, order_id: str, **values: Any) -> None:
    await session.execute(update(charges).where(charges.c.order_id == order_id).values(**values))


# --- reductions ---------------------------------------------------------------------------------


async def reduction_recorded(session: AsyncSession, reduction_id: str) -> bool:
    found = await session.scalar(select(reductions.c.reduction_id).where(reductions.c.reduction_id == reduction_id))
    return found is not None


async def add_reductions(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        await session.execute(insert(reductions), list(rows))


async def reductions_by_charge(session: AsyncSession, account_id: str) -> dict[tuple[str, int], list[Reduction]]:
    rows = await session.execute(
        select(reductions).where(
            reductions.c.account_id == account_id,
            reductions.c.activation_id.is_not(None),
            reductions.c.effective_from.is_not(None),
        )
    )
    found: dict[tuple[str, int], list[Reduction]] = {}
    for row in rows.mappings():
        key = (row["activation_id"], row["activation_line"])
        found.setdefault(key, []).append(Reduction(row["quantity"], row["effective_from"]))
    return found


# --- orders -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderRecord:
    order_id: str
    account_id: str
    activation_id: str
    request_id: str
    ordered_by: dict[str, str]
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


def _order_of(row: RowMapping) -> OrderRecord:
    conversion = Conversion(row["uf_date"], _uf_value(row["clp_per_uf"])) if row["clp_per_uf"] is not None else None
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
        held_since=aware(row["held_since"]),
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
    row = await _first_row(
        session, select(orders).where(orders.c.account_id == account_id, orders.c.order_id == order_id)
    )
    return _order_of(row) if row else None


async def orders_where(session: AsyncSession, *conditions: Any) -> list[OrderRecord]:
    rows = await session.execute(select(orders).where(*conditions).order_by(orders.c.order_date, orders.c.created_at))
    return [_order_of(row) for row in rows.mappings()]


async def held_orders(session: AsyncSession, uf_date: date) -> list[OrderRecord]:
    return await orders_where(session, orders.c.status == DocumentStatus.HELD.value, orders.c.uf_date == uf_date)


async def unpaid_orders_before(session: AsyncSession, account_id: str, before: date) -> list[OrderRecord]:
    unpaid = [status.value for status in DocumentStatus if status.unpaid]
    return await orders_where(
        session, orders.c.account_id == account_id, orders.c.status.in_(unpaid), orders.c.order_date < before
    )


async def update_order(session: AsyncSession, order_id: str, **values: Any) -> None:
    await session.execute(update(orders).where(orders.c.order_id == order_id).values(**values))


# --- invoices -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class InvoiceRecord:
    invoice_id: str
    account_id: str
    kind: str
    issue_date: date
    period: Period | None
    order_id: str | None
    status: DocumentStatus
    uf_date: date
    conversion: Conversion | None
    net_clp: int | None
    iva_clp: int | None
    total_clp: int | None
    credit_applied_clp: int
    paid_clp: int
    billing_data_version: int | None
    held_since: datetime | None
    autopay_status: str | None
    autopay_attempts: int
    autopay_failures: int
    autopay_first_failure_at: datetime | None
    autopay_last_reason: str | None

    @property
    def amount_due(self) -> int | None:
        if self.total_clp is None:
            return None
        return self.total_clp - self.credit_applied_clp - self.paid_clp


def _invoice_of(row: RowMapping) -> InvoiceRecord:
    conversion = Conversion(row["uf_date"], _uf_value(row["clp_per_uf"])) if row["clp_per_uf"] is not None else None
    period = Period(row["period_start"], row["period_end"]) if row["period_start"] else None
    return InvoiceRecord(
        invoice_id=row["invoice_id"],
        account_id=row["account_id"],
        kind=row["kind"],
        issue_date=row["issue_date"],
        period=period,
        order_id=row["order_id"],
        status=DocumentStatus(row["status"]),
        uf_date=row["uf_date"],
        conversion=conversion,
        net_clp=row["net_clp"],
        iva_clp=row["iva_clp"],
        total_clp=row["total_clp"],
        credit_applied_clp=int(row["credit_applied_clp"]),
        paid_clp=int(row["paid_clp"]),
        billing_data_version=row["billing_data_version"],
        held_since=aware(row["held_since"]),
        autopay_status=row["autopay_status"],
        autopay_attempts=row["autopay_attempts"],
        autopay_failures=row["autopay_failures"],
        autopay_first_failure_at=aware(row["autopay_first_failure_at"]),
        autopay_last_reason=row["autopay_last_reason"],
    )


@dataclass(frozen=True)
class NewInvoice:
    invoice_id: str
    account_id: str
    kind: str
    issue_date: date
    period: Period | None
    order_id: str | None
    uf_date: date
    paid_clp: int
    lines: Sequence[Line]


async def add_invoice(session: AsyncSession, new: NewInvoice, now: datetime) -> None:
    await session.execute(
        insert(invoices).values(
            invoice_id=new.invoice_id,
            account_id=new.account_id,
            kind=new.kind,
            issue_date=new.issue_date,
            period_start=new.period.start if new.period else None,
            period_end=new.period.end if new.period else None,
            order_id=new.order_id,
            status=DocumentStatus.HELD.value,
            uf_date=new.uf_date,
            credit_applied_clp=0,
            paid_clp=new.paid_clp,
            held_since=now,
            autopay_attempts=0,
            autopay_failures=0,
            created_at=now,
        )
    )
    await session.execute(
        insert(invoice_lines),
        [
            {
                "invoice_id": new.invoice_id,
                "position": position,
                "kind": line.kind.value,
                "description": line.description,
                "sku": line.sku,
                "quantity": line.quantity,
                "unit_price_uf": line.unit_price_uf,
                "months": line.months,
                "period_start": line.period.start,
                "period_end": line.period.end,
                "days": line.days,
                "fixed_uf_date": line.conversion.uf_date if line.conversion else None,
                "fixed_clp_per_uf": line.conversion.clp_per_uf if line.conversion else None,
                "activation_id": line.activation_id,
                "activation_line": line.activation_line,
                "order_id": line.order_id,
            }
            for position, line in enumerate(new.lines, start=1)
        ],
    )


async def invoice(session: AsyncSession, account_id: str, invoice_id: str) -> InvoiceRecord | None:
    row = await _first_row(
        session, select(invoices).where(invoices.c.account_id == account_id, invoices.c.invoice_id == invoice_id)
    )
    return _invoice_of(row) if row else None


async def invoices_where(session: AsyncSession, *conditions: Any) -> list[InvoiceRecord]:
    rows = await session.execute(select(invoices).where(*conditions).order_by(invoices.c.created_at))
    return [_invoice_of(row) for row in rows.mappings()]


async def held_invoices(session: AsyncSession, uf_date: date) -> list[InvoiceRecord]:
    return await invoices_where(session, invoices.c.status == DocumentStatus.HELD.value, invoices.c.uf_date == uf_date)


async def invoices_with_autopay(session: AsyncSession, status: str) -> list[InvoiceRecord]:
    return await invoices_where(session, invoices.c.autopay_status == status)


async def renewal_periods(session: AsyncSession, account_id: str) -> list[Period]:
    rows = await session.execute(
        select(invoices.c.period_start, invoices.c.period_end)
        .where(invoices.c.account_id == account_id, invoices.c.kind == "renewal")
        .order_by(invoices.c.period_start)
    )
    return [Period(row.period_start, row.period_end) for row in rows]


async def update_invoice(session: AsyncSession, invoice_id: str, **values: Any) -> None:
    await session.execute(update(invoices).where(invoices.c.invoice_id == invoice_id).values(**values))


def _line_of(row: RowMapping) -> Line:
    fixed = (
        Conversion(row["fixed_uf_date"], _uf_value(row["fixed_clp_per_uf"]))
        if row["fixed_clp_per_uf"] is not None
        else None
    )
    return Line(
        kind=LineKind(row["kind"]),
        description=row["description"],
        sku=row["sku"],
        quantity=row["quantity"],
        unit_price_uf=_uf(row["unit_price_uf"]),
        months=row["months"],
        period=Period(row["period_start"], row["period_end"]),
        days=row["days"],
        activation_id=row["activation_id"],
        activation_line=row["activation_line"],
        order_id=row["order_id"],
        conversion=fixed,
    )


async def invoice_lines_of(session: AsyncSession, invoice_id: str) -> list[Line]:
    rows = await session.execute(
        select(invoice_lines).where(invoice_lines.c.invoice_id == invoice_id).order_by(invoice_lines.c.position)
    )
    return [_line_of(row) for row in rows.mappings()]


async def price_invoice_lines(session: AsyncSession, invoice_id: str, priced: Sequence[PricedLine]) -> None:
    for position, line in enumerate(priced, start=1):
        await session.execute(
            update(invoice_lines)
            .where(invoice_lines.c.invoice_id == invoice_id, invoice_lines.c.position == position)
            .values(uf_date=line.conversion.uf_date, clp_per_uf=line.conversion.clp_per_uf, amount_clp=line.amount_clp)
        )


async def priced_invoice_lines(session: AsyncSession, invoice_id: str) -> list[PricedLine]:
    rows = await session.execute(
        select(invoice_lines).where(invoice_lines.c.invoice_id == invoice_id).order_by(invoice_lines.c.position)
    )
    return [
        PricedLine(_line_of(row), Conversion(row["uf_date"], _uf_value(row["clp_per_uf"])), int(row["amount_clp"]))
        for row in rows.mappings()
    ]


async def holds_older_than(session: AsyncSession, cutoff: datetime) -> tuple[list[OrderRecord], list[InvoiceRecord]]:
    """Held documents not yet alerted on, held since before ``cutoff``."""
    held = DocumentStatus.HELD.value
    old_orders = await orders_where(
        session, orders.c.status == held, orders.c.held_since < cutoff, orders.c.hold_alerted_at.is_(None)
    )
    old_invoices = await invoices_where(
        session, invoices.c.status == held, invoices.c.held_since < cutoff, invoices.c.hold_alerted_at.is_(None)
    )
    return old_orders, old_invoices


async def mark_hold_alerted(
    session: AsyncSession, order_ids: Sequence[str], invoice_ids: Sequence[str], now: datetime
) -> None:
    if order_ids:
        await session.execute(update(orders).where(orders.c.order_id.in_(order_ids)).values(hold_alerted_at=now))
    if invoice_ids:
        await session.execute(
            update(invoices).where(invoices.c.invoice_id.in_(invoice_ids)).values(hold_alerted_at=now)
        )


# --- payments -----------------------------------------------------------------------------------


async def payment_recorded(session: AsyncSession, payment_id: str) -> bool:
    return await session.scalar(select(payments.c.payment_id).where(payments.c.payment_id == payment_id)) is not None


async def add_payment(session: AsyncSession, values: Mapping[str, Any]) -> None:
    await session.execute(insert(payments).values(**values))


async def payment_failure_recorded(session: AsyncSession, payment_id: str) -> bool:
    found = await session.scalar(
        select(payment_failures.c.payment_id).where(payment_failures.c.payment_id == payment_id)
    )
    return found is not None


async def add_payment_failure(session: AsyncSession, values: Mapping[str, Any]) -> None:
    await session.execute(insert(payment_failures).values(**values))


async def add_payment_request(session: AsyncSession, values: Mapping[str, Any]) -> None:
    await session.execute(insert(payment_requests).values(**values))


# --- cards --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Card:
    token_reference: str
    brand: str
    last_four: str
    subscribed_by: dict[str, str]
    subscribed_at: datetime


async def card(session: AsyncSession, account_id: str) -> Card | None:
    row = await _first_row(session, select(cards).where(cards.c.account_id == account_id))
    if row is None:
        return None
    return Card(
        row["token_reference"],
        row["brand"],
        row["last_four"],
        person_of(row, "subscribed_by"),
        aware(row["subscribed_at"]) or datetime.now(UTC),
    )


async def save_card(session: AsyncSession, account_id: str, new: Card) -> None:
    values = {
        "token_reference": new.token_reference,
        "brand": new.brand,
        "last_four": new.last_four,
        **person_columns("subscribed_by", new.subscribed_by),
        "subscribed_at": new.subscribed_at,
    }
    if await card(session, account_id) is None:
        await session.execute(insert(cards).values(account_id=account_id, **values))
    else:
        await session.execute(update(cards).where(cards.c.account_id == account_id).values(**values))


async def remove_card(session: AsyncSession, account_id: str) -> None:
    await session.execute(cards.delete().where(cards.c.account_id == account_id))


# --- billing data -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BillingDataVersion:
    version: int
    data: BillingData


async def current_billing_data(session: AsyncSession, account_id: str) -> BillingDataVersion | None:
    row = await _first_row(
        session,
        select(billing_data)
        .where(billing_data.c.account_id == account_id)
        .order_by(billing_data.c.version.desc())
        .limit(1),
    )
    if row is None:
        return None
    data = BillingData(
        legal_name=row["legal_name"],
        rut=row["rut"],
        business_activity=row["business_activity"],
        address=row["address"],
        comuna=row["comuna"],
        city=row["city"],
        billing_email=row["billing_email"],
    )
    return BillingDataVersion(row["version"], data)


async def billing_data_version(session: AsyncSession, account_id: str, version: int) -> BillingDataVersion | None:
    row = await _first_row(
        session, select(billing_data).where(billing_data.c.account_id == account_id, billing_data.c.version == version)
    )
    if row is None:
        return None
    fields = ("legal_name", "rut", "business_activity", "address", "comuna", "city", "billing_email")
    return BillingDataVersion(version, BillingData(**{name: row[name] for name in fields}))


async def submission_decided(session: AsyncSession, account_id: str, submission_id: str) -> bool:
    found = await session.scalar(
        select(billing_data_submissions.c.submission_id).where(
            billing_data_submissions.c.account_id == account_id,
            billing_data_submissions.c.submission_id == submission_id,
        )
    )
    return found is not None


async def add_billing_data(
    session: AsyncSession, account_id: str, version: BillingDataVersion, submission_id: str, who: Person, now: datetime
) -> None:
    data = version.data
    await session.execute(
        insert(billing_data).values(
            account_id=account_id,
            version=version.version,
            legal_name=data.legal_name,
            rut=data.rut,
            business_activity=data.business_activity,
            address=data.address,
            comuna=data.comuna,
            city=data.city,
            billing_email=data.billing_email,
            submission_id=submission_id,
            **person_columns("submitted_by", who),
            accepted_at=now,
        )
    )


async def add_submission(
    session: AsyncSession,
    account_id: str,
    submission_id: str,
    version: int | None,
    problems: Sequence[Mapping[str, str]],
    now: datetime,
) -> None:
    await session.execute(
        insert(billing_data_submissions).values(
            account_id=account_id,
            submission_id=submission_id,
            accepted=version is not None,
            version=version,
            problems=json.dumps(list(problems), ensure_ascii=False) if problems else None,
            decided_at=now,
        )
    )


# --- snapshot revisions -------------------------------------------------------------------------


async def next_revision(session: AsyncSession, account_id: str) -> int:
    """The account's snapshot revision, one more than the last (1 the first time)."""
    bumped = await session.scalar(
        update(billing_views)
        .where(billing_views.c.account_id == account_id)
        .values(revision=billing_views.c.revision + 1)
        .returning(billing_views.c.revision)
    )
    if bumped is not None:
        return int(bumped)
    await session.execute(insert(billing_views).values(account_id=account_id, revision=1))
    return 1
