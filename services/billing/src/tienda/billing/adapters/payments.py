"""The gateway's payments (what matched which document), its failed charges, and the charges
billing asked it to make (autopay requests)."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import RowMapping, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from tienda.billing.adapters.tables import payment_failures, payment_requests, payments


@dataclass(frozen=True)
class Match:
    """Where a payment went: the document it paid, how much of it, and the credit it left."""

    document_id: str
    document_kind: str
    """``order`` or ``invoice``."""
    applied_clp: int
    credit_clp: int


@dataclass(frozen=True)
class PaymentRecord:
    payment_id: str
    account_id: str
    reference: str
    amount_clp: int
    method: str
    paid_by: str
    paid_at: datetime
    event_id: str
    recorded_at: datetime
    match: Match | None
    """None: no document of the account has the reference (yet)."""


def _payment_of(row: RowMapping) -> PaymentRecord:
    matched = bool(row["matched"])
    return PaymentRecord(
        payment_id=row["payment_id"],
        account_id=row["account_id"],
        reference=row["reference"],
        amount_clp=int(row["amount_clp"]),
        method=row["method"],
        paid_by=row["paid_by"],
        paid_at=row["paid_at"],
        event_id=row["event_id"],
        recorded_at=row["recorded_at"],
        match=Match(row["document_id"], row["document_kind"], int(row["applied_clp"]), int(row["credit_clp"]))
        if matched and row["document_id"] is not None
        else None,
    )


async def payment_recorded(session: AsyncSession, payment_id: str) -> bool:
    return await session.scalar(select(payments.c.payment_id).where(payments.c.payment_id == payment_id)) is not None


async def add_payment(session: AsyncSession, payment: PaymentRecord) -> None:
    match = payment.match
    await session.execute(
        insert(payments).values(
            payment_id=payment.payment_id,
            account_id=payment.account_id,
            reference=payment.reference,
            amount_clp=payment.amount_clp,
            method=payment.method,
            paid_by=payment.paid_by,
            paid_at=payment.paid_at,
            event_id=payment.event_id,
            recorded_at=payment.recorded_at,
            matched=match is not None,
            document_id=match.document_id if match else None,
            document_kind=match.document_kind if match else None,
            applied_clp=match.applied_clp if match else None,
            credit_clp=match.credit_clp if match else None,
        )
    )


async def payments_of(session: AsyncSession, account_id: str, limit: int | None = None) -> list[PaymentRecord]:
    """The account's payments, newest first (the latest ``limit`` of them)."""
    query = (
        select(payments)
        .where(payments.c.account_id == account_id)
        .order_by(payments.c.paid_at.desc(), payments.c.payment_id)
    )
    rows = await session.execute(query.limit(limit) if limit else query)
    return [_payment_of(row) for row in rows.mappings()]


# --- failed charges and autopay requests --------------------------------------------------------


@dataclass(frozen=True)
class PaymentFailure:
    payment_id: str
    account_id: str
    reference: str
    amount_clp: int
    reason: str
    failed_at: datetime


async def payment_failure_recorded(session: AsyncSession, payment_id: str) -> bool:
    found = await session.scalar(
        select(payment_failures.c.payment_id).where(payment_failures.c.payment_id == payment_id)
    )
    return found is not None


async def add_payment_failure(session: AsyncSession, failure: PaymentFailure, now: datetime) -> None:
    await session.execute(
        insert(payment_failures).values(
            payment_id=failure.payment_id,
            account_id=failure.account_id,
            reference=failure.reference,
            amount_clp=failure.amount_clp,
            reason=failure.reason,
            failed_at=failure.failed_at,
            recorded_at=now,
        )
    )


@dataclass(frozen=True)
class PaymentRequest:
    request_id: str
    account_id: str
    invoice_id: str
    attempt: int
    amount_clp: int
    token_reference: str


async def add_payment_request(session: AsyncSession, request: PaymentRequest, now: datetime) -> None:
    await session.execute(
        insert(payment_requests).values(
            request_id=request.request_id,
            account_id=request.account_id,
            invoice_id=request.invoice_id,
            attempt=request.attempt,
            amount_clp=request.amount_clp,
            token_reference=request.token_reference,
            requested_at=now,
        )
    )
