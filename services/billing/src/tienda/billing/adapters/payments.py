"""The gateway's payments (what matched which document), its failed charges, and the charges
billing asked it to make (autopay requests)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import RowMapping, bindparam, false, func, insert, or_, select, update
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
    unmatched_raised_at: datetime | None = None
    """When operations were told it matches nothing (PaymentUnmatched); None while it waits."""


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
        unmatched_raised_at=row["unmatched_raised_at"],
    )


async def payment(session: AsyncSession, payment_id: str) -> PaymentRecord | None:
    """The gateway payment recorded under ``payment_id``, if any."""
    row = (await session.execute(select(payments).where(payments.c.payment_id == payment_id))).mappings().first()
    return None if row is None else _payment_of(row)


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
            unmatched_raised_at=payment.unmatched_raised_at,
        )
    )


async def awaiting(session: AsyncSession, account_id: str, reference: str) -> list[PaymentRecord]:
    """The account's payments quoting ``reference`` that matched nothing yet, oldest first."""
    rows = await session.execute(
        select(payments)
        .where(payments.c.account_id == account_id, payments.c.reference == reference, payments.c.matched == false())
        .order_by(payments.c.recorded_at, payments.c.payment_id)
    )
    return [_payment_of(row) for row in rows.mappings()]


async def match_payment(session: AsyncSession, payment_id: str, match: Match) -> None:
    """A payment that waited found its document."""
    await session.execute(
        update(payments)
        .where(payments.c.payment_id == payment_id)
        .values(
            matched=True,
            document_id=match.document_id,
            document_kind=match.document_kind,
            applied_clp=match.applied_clp,
            credit_clp=match.credit_clp,
        )
    )


async def matched_to(session: AsyncSession, document_id: str) -> list[PaymentRecord]:
    """The payments applied to a document, in the order they were recorded."""
    rows = await session.execute(
        select(payments)
        .where(payments.c.document_id == document_id)
        .order_by(payments.c.recorded_at, payments.c.payment_id)
    )
    return [_payment_of(row) for row in rows.mappings()]


_NAMING = select(payments.c.reference, payments.c.document_id).where(
    payments.c.account_id.in_(bindparam("account_ids", expanding=True)),
    or_(
        payments.c.reference.in_(bindparam("references", expanding=True)),
        payments.c.document_id.in_(bindparam("documents", expanding=True)),
    ),
)
_NEWEST_FIRST = (payments.c.paid_at.desc(), payments.c.payment_id)
_RANKED = (
    select(
        payments,
        func.row_number().over(partition_by=payments.c.account_id, order_by=_NEWEST_FIRST).label("rank"),
    )
    .where(payments.c.account_id.in_(bindparam("account_ids", expanding=True)))
    .subquery()
)
_LATEST_OF = (
    select(_RANKED).where(_RANKED.c.rank <= bindparam("limit")).order_by(_RANKED.c.paid_at.desc(), _RANKED.c.payment_id)
)
"""Built once (SQLAlchemy reuses their compiled form), the accounts bound at each call."""


async def documents_with_payments(
    session: AsyncSession, account_ids: Sequence[str], document_ids: Sequence[str]
) -> set[str]:
    """Which of these documents of these accounts a payment quotes (waiting for it) or was applied
    to, in one query: renewal issues the others without reading their payments one by one."""
    if not document_ids:
        return set()
    rows = await session.execute(
        _NAMING, {"account_ids": list(account_ids), "references": list(document_ids), "documents": list(document_ids)}
    )
    wanted = set(document_ids)
    return {document for row in rows for document in (row.reference, row.document_id) if document in wanted}


async def unraised_before(session: AsyncSession, cutoff: datetime) -> list[PaymentRecord]:
    """Payments recorded before ``cutoff`` that still match nothing and were not raised yet."""
    rows = await session.execute(
        select(payments)
        .where(
            payments.c.matched == false(),
            payments.c.recorded_at < cutoff,
            payments.c.unmatched_raised_at.is_(None),
        )
        .order_by(payments.c.recorded_at, payments.c.payment_id)
    )
    return [_payment_of(row) for row in rows.mappings()]


async def mark_unmatched_raised(session: AsyncSession, payment_ids: Sequence[str], now: datetime) -> None:
    if payment_ids:
        await session.execute(
            update(payments).where(payments.c.payment_id.in_(payment_ids)).values(unmatched_raised_at=now)
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


async def latest_payments_of(
    session: AsyncSession, account_ids: Sequence[str], limit: int
) -> dict[str, list[PaymentRecord]]:
    """The latest ``limit`` payments of each of these accounts, newest first, in one query."""
    found: dict[str, list[PaymentRecord]] = {account_id: [] for account_id in account_ids}
    if not account_ids:
        return found
    for row in (await session.execute(_LATEST_OF, {"account_ids": list(account_ids), "limit": limit})).mappings():
        found[row["account_id"]].append(_payment_of(row))
    return found


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


async def add_payment_requests(session: AsyncSession, requests: Sequence[PaymentRequest], now: datetime) -> None:
    """Many autopay requests in one multi-row INSERT."""
    if requests:
        await session.execute(
            insert(payment_requests),
            [
                {
                    "request_id": request.request_id,
                    "account_id": request.account_id,
                    "invoice_id": request.invoice_id,
                    "attempt": request.attempt,
                    "amount_clp": request.amount_clp,
                    "token_reference": request.token_reference,
                    "requested_at": now,
                }
                for request in requests
            ],
        )
