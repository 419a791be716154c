"""Billing's read side: what the endpoints answer and the snapshot carries, as JSON-ready dicts."""

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import RowMapping, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tienda.billing.adapters import repository
from tienda.billing.adapters.tables import charges, invoice_lines, invoices, orders, payments
from tienda.billing.domain.accounts import BillingAccount
from tienda.billing.domain.billing_data import display_rut
from tienda.billing.domain.documents import DocumentStatus

UF = Decimal("0.0001")
LATEST_INVOICES = 12
LATEST_PAYMENTS = 20
UNPAID = [DocumentStatus.HELD.value, DocumentStatus.PENDING.value, DocumentStatus.PARTIALLY_PAID.value]


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _uf(value: Any) -> str:
    return str(Decimal(value).quantize(UF))


def _money(value: Any) -> str | None:
    return None if value is None else str(Decimal(value).quantize(Decimal("0.01")))


async def charges_of(session: AsyncSession, account_id: str) -> list[dict[str, Any]]:
    rows = (
        await session.execute(
            select(charges).where(charges.c.account_id == account_id).order_by(charges.c.recorded_at, charges.c.line)
        )
    ).mappings()
    return [
        {
            "activation_id": r["activation_id"],
            "line": r["line"],
            "sku": r["sku"],
            "description": r["description"],
            "quantity": r["quantity"],
            "unit_price_uf": _uf(r["unit_price_uf"]),
            "effective_date": r["effective_date"].isoformat(),
            "payment_mode": r["payment_mode"],
            "status": r["status"],
            "period_start": _day(r["period_start"]),
            "period_end": _day(r["period_end"]),
            "order_id": r["order_id"],
            "invoice_id": r["invoice_id"],
        }
        for r in rows
    ]


def _payment(r: RowMapping) -> dict[str, Any]:
    paid_at = repository.aware(r["paid_at"])
    return {
        "payment_id": r["payment_id"],
        "reference": r["reference"],
        "amount_clp": r["amount_clp"],
        "method": r["method"],
        "paid_by": r["paid_by"],
        "paid_at": paid_at.isoformat() if paid_at else None,
        "matched": bool(r["matched"]),
        "document_id": r["document_id"],
        "document_kind": r["document_kind"],
        "applied_clp": r["applied_clp"],
        "credit_clp": r["credit_clp"],
    }


async def payments_of(session: AsyncSession, account_id: str, limit: int | None = None) -> list[dict[str, Any]]:
    """The payment history: what was paid, how much, how, by whom, when; newest first."""
    query = (
        select(payments)
        .where(payments.c.account_id == account_id)
        .order_by(payments.c.paid_at.desc(), payments.c.payment_id)
    )
    rows = (await session.execute(query.limit(limit) if limit else query)).mappings()
    return [_payment(r) for r in rows]


def _order(r: RowMapping) -> dict[str, Any]:
    total = r["total_clp"]
    return {
        "order_id": r["order_id"],
        "payment_reference": r["order_id"],
        "activation_id": r["activation_id"],
        "order_date": r["order_date"].isoformat(),
        "status": r["status"],
        "uf_date": r["uf_date"].isoformat(),
        "clp_per_uf": _money(r["clp_per_uf"]),
        "net_clp": r["net_clp"],
        "iva_clp": r["iva_clp"],
        "total_clp": total,
        "paid_clp": r["paid_clp"],
        "balance_due_clp": None if total is None else max(total - r["paid_clp"], 0),
        "carried_into": r["carried_into"],
        "invoice_id": r["invoice_id"],
        "ordered_by": repository.person_of(r, "ordered_by"),
    }


async def orders_of(session: AsyncSession, account_id: str, *, pending_only: bool = False) -> list[dict[str, Any]]:
    """The account's online orders, newest first; pending: not paid and not carried."""
    query = select(orders).where(orders.c.account_id == account_id)
    if pending_only:
        query = query.where(orders.c.status.in_(UNPAID))
    rows = (await session.execute(query.order_by(orders.c.order_date.desc(), orders.c.created_at.desc()))).mappings()
    return [_order(r) for r in rows]


def _invoice(r: RowMapping) -> dict[str, Any]:
    total = r["total_clp"]
    return {
        "invoice_id": r["invoice_id"],
        "payment_reference": r["invoice_id"],
        "kind": r["kind"],
        "dte_type": 33,
        "issue_date": r["issue_date"].isoformat(),
        "period_start": _day(r["period_start"]),
        "period_end": _day(r["period_end"]),
        "status": r["status"],
        "uf_date": r["uf_date"].isoformat(),
        "clp_per_uf": _money(r["clp_per_uf"]),
        "net_clp": r["net_clp"],
        "iva_clp": r["iva_clp"],
        "total_clp": total,
        "credit_applied_clp": r["credit_applied_clp"],
        "paid_clp": r["paid_clp"],
        "amount_due_clp": None if total is None else total - r["credit_applied_clp"] - r["paid_clp"],
        "billing_data_version": r["billing_data_version"],
        "autopay": {"status": r["autopay_status"], "attempts": r["autopay_attempts"]} if r["autopay_status"] else None,
    }


def _line(r: RowMapping) -> dict[str, Any]:
    return {
        "position": r["position"],
        "kind": r["kind"],
        "description": r["description"],
        "sku": r["sku"],
        "quantity": r["quantity"],
        "unit_price_uf": _uf(r["unit_price_uf"]),
        "months": r["months"],
        "period_start": r["period_start"].isoformat(),
        "period_end": r["period_end"].isoformat(),
        "days": r["days"],
        "uf_date": _day(r["uf_date"]),
        "clp_per_uf": _money(r["clp_per_uf"]),
        "amount_clp": r["amount_clp"],
        "activation_id": r["activation_id"],
        "activation_line": r["activation_line"],
        "order_id": r["order_id"],
    }


async def invoices_of(session: AsyncSession, account_id: str, *, with_lines: bool = True) -> list[dict[str, Any]]:
    """The account's invoices with their lines, newest first."""
    rows = (
        await session.execute(
            select(invoices)
            .where(invoices.c.account_id == account_id)
            .order_by(invoices.c.issue_date.desc(), invoices.c.created_at.desc())
        )
    ).mappings()
    found = [_invoice(r) for r in rows]
    if not with_lines or not found:
        return found
    lines = (
        await session.execute(
            select(invoice_lines)
            .where(invoice_lines.c.invoice_id.in_([f["invoice_id"] for f in found]))
            .order_by(invoice_lines.c.invoice_id, invoice_lines.c.position)
        )
    ).mappings()
    by_invoice: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        by_invoice.setdefault(line["invoice_id"], []).append(_line(line))
    return [{**f, "lines": by_invoice.get(f["invoice_id"], [])} for f in found]


async def _counts(session: AsyncSession, account_id: str) -> tuple[int, int, int]:
    """Invoices, payments and charges waiting for the plan, in one round trip."""

    def count(table: Any, *conditions: Any) -> Any:
        query = select(func.count()).select_from(table).where(table.c.account_id == account_id, *conditions)
        return query.scalar_subquery()

    waiting = charges.c.status == "waiting_for_plan"
    row = (await session.execute(select(count(invoices), count(payments), count(charges, waiting)))).one()
    return int(row[0]), int(row[1]), int(row[2])


async def account_view(session: AsyncSession, account_id: str) -> dict[str, Any]:
    """Balance, pending orders, invoices, payments, card and billing data: the BillingSnapshot's fields."""
    account = await repository.account(session, account_id)
    pending = await orders_of(session, account_id, pending_only=True)
    invoice_rows = (
        await session.execute(
            select(invoices)
            .where(invoices.c.account_id == account_id)
            .where(
                or_(
                    invoices.c.status.in_(UNPAID),
                    invoices.c.invoice_id.in_(
                        select(invoices.c.invoice_id)
                        .where(invoices.c.account_id == account_id)
                        .order_by(invoices.c.created_at.desc())
                        .limit(LATEST_INVOICES)
                    ),
                )
            )
            .order_by(invoices.c.issue_date.desc(), invoices.c.created_at.desc())
        )
    ).mappings()
    invoice_list = [_invoice(r) for r in invoice_rows]
    card = await repository.card(session, account_id)
    data = await repository.current_billing_data(session, account_id)
    invoices_total, payments_total, waiting = await _counts(session, account_id)
    due = sum(o["balance_due_clp"] or 0 for o in pending) + sum(
        max(i["amount_due_clp"] or 0, 0) for i in invoice_list if i["status"] in UNPAID
    )
    return {
        "plan": _plan(account),
        "current_period_start": _day(account.current_period.start) if account else None,
        "current_period_end": _day(account.current_period.end) if account else None,
        "next_renewal": _day(account.next_period.start) if account else None,
        "balance_due_clp": due,
        "credit_clp": account.credit_clp if account else 0,
        "pending_orders": pending,
        "invoices": invoice_list,
        "invoices_total": invoices_total,
        "payments": await payments_of(session, account_id, LATEST_PAYMENTS),
        "payments_total": payments_total,
        "card": _card(card),
        "billing_data": _billing_data(data),
        "charges_waiting_for_plan": waiting,
    }


def _plan(account: BillingAccount | None) -> dict[str, Any] | None:
    if account is None:
        return None
    plan = account.plan
    return {
        "code": plan.code,
        "name": plan.name,
        "billing_cycle": plan.cycle.value,
        "renewal_anchor": plan.anchor.isoformat(),
        "price_uf": _uf(plan.price_uf),
        "suspended": account.suspended,
    }


def _card(card: repository.Card | None) -> dict[str, Any] | None:
    if card is None:
        return None
    return {
        "brand": card.brand,
        "last_four": card.last_four,
        "subscribed_by": card.subscribed_by,
        "subscribed_at": card.subscribed_at.isoformat(),
    }


def _billing_data(version: repository.BillingDataVersion | None) -> dict[str, Any] | None:
    if version is None:
        return None
    data = version.data
    return {
        "version": version.version,
        "legal_name": data.legal_name,
        "rut": display_rut(data.rut),
        "business_activity": data.business_activity,
        "address": data.address,
        "comuna": data.comuna,
        "city": data.city,
        "billing_email": data.billing_email,
    }
