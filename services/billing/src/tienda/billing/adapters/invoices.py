"""Invoices (DTE 33) and their lines: renewal invoices and the invoices of paid orders; held
until the UF value of their date is known, then issued, paid, charged to the card (autopay).

Lines are written once with their UF figures; their pesos are written when the invoice is
issued. Updates of many lines are one statement with many parameter sets."""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import RowMapping, bindparam, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tienda.billing.adapters.columns import ClpPerUf, UfAmount
from tienda.billing.adapters.rows import first_row
from tienda.billing.adapters.tables import invoice_lines, invoices
from tienda.billing.domain.autopay import Autopay, AutopayStatus
from tienda.billing.domain.documents import Conversion, DocumentStatus, Line, LineKind, PricedLine
from tienda.billing.domain.payments import Balance
from tienda.contracts.pricing.money import Totals
from tienda.contracts.pricing.periods import Period

UNPAID = [status.value for status in DocumentStatus if status.unpaid]
UF_SCALE, CLP_PER_UF_SCALE = UfAmount.quantum, ClpPerUf.quantum


@dataclass(frozen=True)
class InvoiceRecord:
    invoice_id: str
    account_id: str
    kind: str
    """``renewal`` or ``order``."""
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
    autopay: Autopay

    @property
    def balance(self) -> Balance | None:
        """What the invoice owes once its amounts are known (None while it is held)."""
        return None if self.total_clp is None else Balance(self.total_clp, self.credit_applied_clp, self.paid_clp)

    @property
    def amount_due(self) -> int | None:
        balance = self.balance
        return None if balance is None else balance.due


def _invoice_of(row: RowMapping) -> InvoiceRecord:
    status = row["autopay_status"]
    return InvoiceRecord(
        invoice_id=row["invoice_id"],
        account_id=row["account_id"],
        kind=row["kind"],
        issue_date=row["issue_date"],
        period=Period(row["period_start"], row["period_end"]) if row["period_start"] else None,
        order_id=row["order_id"],
        status=DocumentStatus(row["status"]),
        uf_date=row["uf_date"],
        conversion=Conversion(row["uf_date"], row["clp_per_uf"]) if row["clp_per_uf"] is not None else None,
        net_clp=row["net_clp"],
        iva_clp=row["iva_clp"],
        total_clp=row["total_clp"],
        credit_applied_clp=int(row["credit_applied_clp"]),
        paid_clp=int(row["paid_clp"]),
        billing_data_version=row["billing_data_version"],
        held_since=row["held_since"],
        autopay=Autopay(
            AutopayStatus(status) if status else None,
            row["autopay_attempts"],
            row["autopay_failures"],
            row["autopay_first_failure_at"],
            row["autopay_last_reason"],
        ),
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
    """The invoice, held (no pesos yet), with its lines."""
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
        [_line_values(new.invoice_id, position, line) for position, line in enumerate(new.lines, start=1)],
    )


def as_stored(line: Line) -> Line:
    """The line as reading it back from ``invoice_lines`` gives it (UF figures at their column's scale)."""
    fixed = line.conversion
    return replace(
        line,
        unit_price_uf=line.unit_price_uf.quantize(UF_SCALE),
        conversion=Conversion(fixed.uf_date, fixed.clp_per_uf.quantize(CLP_PER_UF_SCALE)) if fixed else None,
    )


@dataclass(frozen=True)
class IssuedInvoice:
    """An invoice priced at once: what ``add_invoice``, ``price_invoice_lines``, ``issue_invoice`` and
    ``set_autopay`` leave in the database, written in one go."""

    new: NewInvoice
    priced: Sequence[PricedLine]
    conversion: Conversion
    totals: Totals
    balance: Balance
    billing_data_version: int | None
    autopay: Autopay


async def add_issued_invoices(session: AsyncSession, issued: Sequence[IssuedInvoice], now: datetime) -> None:
    """Many issued invoices and their priced lines, in two multi-row INSERTs."""
    if not issued:
        return
    await session.execute(insert(invoices), [_issued_values(invoice, now) for invoice in issued])
    lines = [
        {
            **_line_values(invoice.new.invoice_id, position, priced.line),
            "uf_date": priced.conversion.uf_date,
            "clp_per_uf": priced.conversion.clp_per_uf,
            "amount_clp": priced.amount_clp,
        }
        for invoice in issued
        for position, priced in enumerate(invoice.priced, start=1)
    ]
    if lines:
        await session.execute(insert(invoice_lines), lines)


def _issued_values(issued: IssuedInvoice, now: datetime) -> dict[str, Any]:
    new, totals, balance = issued.new, issued.totals, issued.balance
    return {
        "invoice_id": new.invoice_id,
        "account_id": new.account_id,
        "kind": new.kind,
        "issue_date": new.issue_date,
        "period_start": new.period.start if new.period else None,
        "period_end": new.period.end if new.period else None,
        "order_id": new.order_id,
        "status": balance.status.value,
        "uf_date": new.uf_date,
        "clp_per_uf": issued.conversion.clp_per_uf,
        "net_clp": totals.net,
        "iva_clp": totals.iva,
        "total_clp": totals.total,
        "credit_applied_clp": balance.credit_applied,
        "paid_clp": balance.paid,
        "billing_data_version": issued.billing_data_version,
        "held_since": None,
        "hold_alerted_at": None,
        **_autopay_values(issued.autopay),
        "created_at": now,
        "issued_at": now,
    }


def _line_values(invoice_id: str, position: int, line: Line) -> dict[str, Any]:
    return {
        "invoice_id": invoice_id,
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


def held_record(new: NewInvoice, now: datetime) -> InvoiceRecord:
    """The invoice as ``add_invoice`` stores it (what reading it back would give)."""
    return InvoiceRecord(
        invoice_id=new.invoice_id,
        account_id=new.account_id,
        kind=new.kind,
        issue_date=new.issue_date,
        period=new.period,
        order_id=new.order_id,
        status=DocumentStatus.HELD,
        uf_date=new.uf_date,
        conversion=None,
        net_clp=None,
        iva_clp=None,
        total_clp=None,
        credit_applied_clp=0,
        paid_clp=new.paid_clp,
        billing_data_version=None,
        held_since=now,
        autopay=Autopay(None, 0, 0, None, None),
    )


async def invoice(session: AsyncSession, account_id: str, invoice_id: str) -> InvoiceRecord | None:
    row = await first_row(
        session, select(invoices).where(invoices.c.account_id == account_id, invoices.c.invoice_id == invoice_id)
    )
    return _invoice_of(row) if row else None


async def owner(session: AsyncSession, invoice_id: str) -> str | None:
    """The account an invoice belongs to, whichever it is (invoice ids are unique across accounts)."""
    found: str | None = await session.scalar(select(invoices.c.account_id).where(invoices.c.invoice_id == invoice_id))
    return found


async def invoices_where(session: AsyncSession, *conditions: Any) -> list[InvoiceRecord]:
    rows = await session.execute(select(invoices).where(*conditions).order_by(invoices.c.created_at))
    return [_invoice_of(row) for row in rows.mappings()]


async def held_invoices(session: AsyncSession, uf_date: date) -> list[InvoiceRecord]:
    return await invoices_where(session, invoices.c.status == DocumentStatus.HELD.value, invoices.c.uf_date == uf_date)


async def invoices_with_autopay(session: AsyncSession, status: AutopayStatus) -> list[InvoiceRecord]:
    return await invoices_where(session, invoices.c.autopay_status == status.value)


async def unpaid_invoices_never_charged(session: AsyncSession, account_id: str) -> list[InvoiceRecord]:
    """Issued invoices of the account with something due that no card was ever asked to pay."""
    return await invoices_where(
        session,
        invoices.c.account_id == account_id,
        invoices.c.status.in_([DocumentStatus.PENDING.value, DocumentStatus.PARTIALLY_PAID.value]),
        invoices.c.autopay_status.is_(None),
    )


_RENEWAL_PERIODS_OF = (
    select(invoices.c.account_id, invoices.c.period_start, invoices.c.period_end)
    .where(invoices.c.account_id.in_(bindparam("account_ids", expanding=True)), invoices.c.kind == "renewal")
    .order_by(invoices.c.period_start)
)
_RANKED = (
    select(
        invoices,
        func.row_number().over(partition_by=invoices.c.account_id, order_by=invoices.c.created_at.desc()).label("rank"),
    )
    .where(invoices.c.account_id.in_(bindparam("account_ids", expanding=True)))
    .subquery()
)
_UNPAID_AND_LATEST_OF = (
    select(*(_RANKED.c[column.name] for column in invoices.c))
    .where(or_(_RANKED.c.rank <= bindparam("latest"), _RANKED.c.status.in_(UNPAID)))
    .order_by(_RANKED.c.issue_date.desc(), _RANKED.c.created_at.desc())
)
"""Built once (SQLAlchemy reuses their compiled form), the accounts bound at each call."""


async def renewal_periods_of(session: AsyncSession, account_ids: Sequence[str]) -> dict[str, list[Period]]:
    """The periods of each of these accounts' renewal invoices, oldest first, in one query."""
    found: dict[str, list[Period]] = {account_id: [] for account_id in account_ids}
    if account_ids:
        rows = await session.execute(_RENEWAL_PERIODS_OF, {"account_ids": list(account_ids)})
        for row in rows:
            found[row.account_id].append(Period(row.period_start, row.period_end))
    return found


async def invoices_of(session: AsyncSession, account_id: str) -> list[InvoiceRecord]:
    """The account's invoices, newest first."""
    return await _newest_first(session, invoices.c.account_id == account_id)


async def unpaid_and_latest_of(
    session: AsyncSession, account_ids: Sequence[str], latest: int
) -> dict[str, list[InvoiceRecord]]:
    """Each of these accounts' unpaid invoices and its ``latest`` ones, newest first, in one query.

    The accounts' invoices are found by account first (its index), then kept if unpaid or among the
    latest: a condition ``status IN (unpaid) OR ...`` beside the account let SQLite search the
    status index, that is every unpaid invoice of every account, which grows with a renewal run."""
    found: dict[str, list[InvoiceRecord]] = {account_id: [] for account_id in account_ids}
    if not account_ids:
        return found
    rows = await session.execute(_UNPAID_AND_LATEST_OF, {"account_ids": list(account_ids), "latest": latest})
    for row in rows.mappings():
        record = _invoice_of(row)
        found[record.account_id].append(record)
    return found


async def _newest_first(session: AsyncSession, *conditions: Any) -> list[InvoiceRecord]:
    query = select(invoices).where(*conditions).order_by(invoices.c.issue_date.desc(), invoices.c.created_at.desc())
    return [_invoice_of(row) for row in (await session.execute(query)).mappings()]


async def issue_invoice(
    session: AsyncSession,
    invoice_id: str,
    conversion: Conversion,
    totals: Totals,
    balance: Balance,
    billing_data_version: int | None,
    issued_at: datetime,
) -> None:
    """The held invoice's pesos at ``conversion``, what payments and credit settled, the billing data printed."""
    await session.execute(
        update(invoices)
        .where(invoices.c.invoice_id == invoice_id)
        .values(
            status=balance.status.value,
            clp_per_uf=conversion.clp_per_uf,
            net_clp=totals.net,
            iva_clp=totals.iva,
            total_clp=totals.total,
            credit_applied_clp=balance.credit_applied,
            paid_clp=balance.paid,
            billing_data_version=billing_data_version,
            held_since=None,
            issued_at=issued_at,
        )
    )


def _autopay_values(autopay: Autopay) -> dict[str, Any]:
    return {
        "autopay_status": autopay.status.value if autopay.status else None,
        "autopay_attempts": autopay.attempts,
        "autopay_failures": autopay.failures,
        "autopay_first_failure_at": autopay.first_failure_at,
        "autopay_last_reason": autopay.last_reason,
    }


async def pay_invoice(
    session: AsyncSession, invoice_id: str, paid_clp: int, status: DocumentStatus, autopay: Autopay | None = None
) -> None:
    """What the invoice's payments add up to, its status after them, and its autopay if that changed."""
    values: dict[str, Any] = {"paid_clp": paid_clp, "status": status.value}
    if autopay is not None:
        values |= _autopay_values(autopay)
    await session.execute(update(invoices).where(invoices.c.invoice_id == invoice_id).values(**values))


async def set_autopay(session: AsyncSession, invoice_id: str, autopay: Autopay) -> None:
    await session.execute(
        update(invoices).where(invoices.c.invoice_id == invoice_id).values(**_autopay_values(autopay))
    )


async def old_holds(session: AsyncSession, cutoff: datetime) -> list[InvoiceRecord]:
    """Held invoices not yet alerted on, held since before ``cutoff``."""
    return await invoices_where(
        session,
        invoices.c.status == DocumentStatus.HELD.value,
        invoices.c.held_since < cutoff,
        invoices.c.hold_alerted_at.is_(None),
    )


async def mark_hold_alerted(session: AsyncSession, invoice_ids: Sequence[str], now: datetime) -> None:
    if invoice_ids:
        await session.execute(
            update(invoices).where(invoices.c.invoice_id.in_(invoice_ids)).values(hold_alerted_at=now)
        )


# --- lines --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredLine:
    """A line as stored: its UF figures, and its pesos once the invoice is issued."""

    invoice_id: str
    position: int
    line: Line
    conversion: Conversion | None
    amount_clp: int | None


def _line_of(row: RowMapping) -> Line:
    fixed = row["fixed_clp_per_uf"]
    return Line(
        kind=LineKind(row["kind"]),
        description=row["description"],
        sku=row["sku"],
        quantity=row["quantity"],
        unit_price_uf=row["unit_price_uf"],
        months=row["months"],
        period=Period(row["period_start"], row["period_end"]),
        days=row["days"],
        activation_id=row["activation_id"],
        activation_line=row["activation_line"],
        order_id=row["order_id"],
        conversion=Conversion(row["fixed_uf_date"], fixed) if fixed is not None else None,
    )


async def invoice_lines_of(session: AsyncSession, invoice_id: str) -> list[Line]:
    rows = await session.execute(
        select(invoice_lines).where(invoice_lines.c.invoice_id == invoice_id).order_by(invoice_lines.c.position)
    )
    return [_line_of(row) for row in rows.mappings()]


async def lines_of(session: AsyncSession, invoice_ids: Sequence[str]) -> dict[str, list[StoredLine]]:
    """The lines of each of these invoices, in order."""
    if not invoice_ids:
        return {}
    rows = await session.execute(
        select(invoice_lines)
        .where(invoice_lines.c.invoice_id.in_(invoice_ids))
        .order_by(invoice_lines.c.invoice_id, invoice_lines.c.position)
    )
    found: dict[str, list[StoredLine]] = {}
    for row in rows.mappings():
        priced = row["clp_per_uf"]
        found.setdefault(row["invoice_id"], []).append(
            StoredLine(
                row["invoice_id"],
                row["position"],
                _line_of(row),
                Conversion(row["uf_date"], priced) if priced is not None else None,
                row["amount_clp"],
            )
        )
    return found


_PRICE_LINE = update(invoice_lines).where(
    invoice_lines.c.invoice_id == bindparam("line_invoice_id"), invoice_lines.c.position == bindparam("line")
)


async def price_invoice_lines(session: AsyncSession, invoice_id: str, priced: Sequence[PricedLine]) -> None:
    """Each line's pesos and the conversion that gave them, in one statement."""
    if priced:
        await session.execute(
            _PRICE_LINE,
            [
                {
                    "line_invoice_id": invoice_id,
                    "line": position,
                    "uf_date": line.conversion.uf_date,
                    "clp_per_uf": line.conversion.clp_per_uf,
                    "amount_clp": line.amount_clp,
                }
                for position, line in enumerate(priced, start=1)
            ],
        )
