"""The upcoming renewal invoice: the next renewal invoice as it would be issued with what billing
knows now. Read-only: it takes no lock and writes nothing.

It reads what renewal reads, with renewal's own reads (``renewal_reads.read_for_renewal``, without
the lock: charges at renewal, earlier periods' charges for the add-ons, reductions, unpaid online
orders before the period, the periods already invoiced, the renewal day's UF value), computes the
invoice with renewal's own function (``renewal.renewal_of``), prices it with ``domain.documents``
at the UF value of the renewal day, or, while that is unknown, at the latest value known (``uf_estimate`` true), and
applies earlier payments of carried orders and the account's credit as ``domain.payments.issue``
does at issue. What may still change it: carts, reductions and payments between now and the
renewal day, and the day's UF value when it is an estimate.
"""

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from tienda.billing.adapters import uf_values
from tienda.billing.domain import ids
from tienda.billing.domain.documents import document_totals, price_all
from tienda.billing.domain.payments import issue
from tienda.billing.service_layer.documents import document_line
from tienda.billing.service_layer.renewal import renewal_of
from tienda.billing.service_layer.renewal_reads import read_for_renewal
from tienda.contracts.messages.billing import DocumentLine


class UpcomingInvoice(BaseModel):
    """The next renewal invoice as it would be issued now (nothing is written)."""

    account_id: str
    invoice_id: str = Field(description="The id (and payment reference) the invoice will have.")
    issue_date: date = Field(description="The renewal day: the first day of the period.")
    period_start: date
    period_end: date
    uf_date: date | None = Field(description="The day whose UF value priced it; null when billing knows none.")
    clp_per_uf: Decimal | None
    uf_estimate: bool = Field(
        description="True when the renewal day's UF value is not known yet and the latest known one priced it."
    )
    lines: list[DocumentLine] = Field(
        description="Plan, add-ons, prorated charges at renewal, carried orders' lines (at their orders' pesos)."
    )
    carried_orders: list[str]
    net_clp: int | None
    iva_clp: int | None
    total_clp: int | None
    credit_applied_clp: int | None = Field(description="The account's credit the invoice would use.")
    paid_clp: int | None = Field(description="What carried orders were already paid.")
    amount_due_clp: int | None


class NoUpcomingInvoice(Exception):
    """Billing has no plan for the account: there is no renewal to show."""


async def upcoming_invoice(session: AsyncSession, account_id: str, today: date) -> UpcomingInvoice:
    """``today``: the day (in Chile) the question is asked; a UF estimate is the latest value up to it
    or the renewal day, whichever is later."""
    reads = (await read_for_renewal(session, [account_id], for_update=False)).get(account_id)
    if reads is None:
        raise NoUpcomingInvoice(f"billing has no plan for account {account_id}: it has no renewal yet")
    account = reads.account
    period = account.next_period
    invoice, _ = renewal_of(account, period, reads)
    conversion = reads.conversion
    estimate = conversion is None
    if conversion is None:
        conversion = await uf_values.latest_uf_value(session, max(period.start, today))
    answer = UpcomingInvoice(
        account_id=account_id,
        invoice_id=ids.renewal_invoice_id(account_id, period.start),
        issue_date=period.start,
        period_start=period.start,
        period_end=period.end,
        uf_date=conversion.uf_date if conversion else None,
        clp_per_uf=conversion.clp_per_uf if conversion else None,
        uf_estimate=estimate,
        lines=[],
        carried_orders=sorted(order.order_id for order in invoice.carried),
        net_clp=None,
        iva_clp=None,
        total_clp=None,
        credit_applied_clp=None,
        paid_clp=None,
        amount_due_clp=None,
    )
    if conversion is None:
        return answer
    priced = price_all(invoice.lines, conversion)
    figures = document_totals(priced)
    balance = issue(figures.total, invoice.paid_by_carried_orders, account.credit_clp).balance
    return answer.model_copy(
        update={
            "lines": [document_line(line) for line in priced],
            "net_clp": figures.net,
            "iva_clp": figures.iva,
            "total_clp": figures.total,
            "credit_applied_clp": balance.credit_applied,
            "paid_clp": balance.paid,
            "amount_due_clp": balance.due,
        }
    )
