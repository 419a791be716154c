"""What renewal reads of an account, read for several accounts at once.

A renewal transaction reads a few accounts (locked) and everything their renewal needs in a few
queries, then renews them one by one in memory. The reads are those of the account's first due
period: an account that catches up on several periods reads the later ones itself, after the
earlier ones' writes. With them come what issuing the invoice reads (the UF value of the renewal
day, the billing data, the card) and whether a payment quotes or paid the invoice already: an
account with one period due, whose UF value is known and whose invoice no payment names, is
issued at once in memory (``renewal.issue_at_once``)."""

import asyncio
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from tienda.billing.adapters import accounts, billing_data, cards, charges, invoices, orders, payments, uf_values
from tienda.billing.adapters.billing_data import BillingDataVersion
from tienda.billing.adapters.cards import Card
from tienda.billing.adapters.charges import ChargeKey, ChargeRecord
from tienda.billing.adapters.orders import OrderRecord
from tienda.billing.domain import ids
from tienda.billing.domain.accounts import BillingAccount
from tienda.billing.domain.charges import ChargeStatus, Reduction
from tienda.billing.domain.documents import Conversion
from tienda.contracts.pricing.periods import Period


@dataclass(frozen=True)
class RenewalReads:
    """One account's renewal inputs, as read (the charges before any period is picked)."""

    account: BillingAccount
    reductions: dict[ChargeKey, list[Reduction]]
    placed: list[ChargeRecord]
    unpaid_orders: list[OrderRecord]
    order_charges: dict[str, list[ChargeRecord]]
    issued_renewals: list[Period]
    conversion: Conversion | None
    """The UF value of the next period's first day (the renewal day), if billing has it."""
    billing_data: BillingDataVersion | None
    card: Card | None
    payments_name_invoice: bool
    """Whether a payment quotes the next period's invoice (waiting for it) or was applied to it."""

    def issues_at_once(self, period: Period) -> bool:
        """Whether the invoice of ``period`` can be issued from these reads alone: it is the next
        period's, its UF value is known, and no payment waits for it or was applied to it."""
        return (
            period == self.account.next_period
            and self.conversion is not None
            and self.conversion.uf_date == period.start
            and not self.payments_name_invoice
        )

    def pending(self, before: date) -> list[ChargeRecord]:
        """Charges paid at renewal, not invoiced yet, of a period that started before ``before``."""
        return [
            record
            for record in self.placed
            if record.status is ChargeStatus.PENDING_RENEWAL and record.period and record.period.start < before
        ]

    def recurring(self, before: date) -> list[ChargeRecord]:
        """Charges of periods that ended before ``before``: their add-on amount recurs."""
        return [record for record in self.placed if record.period and record.period.end < before]

    def unpaid_before(self, before: date) -> list[OrderRecord]:
        """Unpaid online orders of a day before ``before`` (carried into the invoice)."""
        return [order for order in self.unpaid_orders if order.order_date < before]


async def read_for_renewal(
    session: AsyncSession, account_ids: list[str], *, for_update: bool = True
) -> dict[str, RenewalReads]:
    """The accounts among these that billing knows, locked (unless ``for_update`` is false: the
    upcoming invoice reads the same inputs without a lock), with their renewal inputs, in ten queries."""
    found = await accounts.accounts_by_id(session, account_ids, for_update=for_update)
    known = [account_id for account_id in account_ids if account_id in found]
    reductions = await charges.reductions_of(session, known)
    placed = await charges.placed_charges_of(session, known)
    await asyncio.sleep(0)  # with SQLite the statements run on the loop: its other work goes between them
    unpaid = await orders.unpaid_orders_of(session, known)
    lines = await charges.charges_of_orders(session, [order.order_id for some in unpaid.values() for order in some])
    periods = await invoices.renewal_periods_of(session, known)
    await asyncio.sleep(0)
    renewal_days = {account_id: found[account_id].next_period.start for account_id in known}
    conversions = await uf_values.uf_values_of(session, renewal_days.values())
    data = await billing_data.current_billing_data_of(session, known)
    cards_on_file = await cards.cards_of(session, known)
    await asyncio.sleep(0)
    next_invoices = [ids.renewal_invoice_id(account_id, day) for account_id, day in renewal_days.items()]
    named = await payments.documents_with_payments(session, known, next_invoices)
    return {
        account_id: RenewalReads(
            found[account_id],
            reductions[account_id],
            placed[account_id],
            unpaid[account_id],
            {order.order_id: lines[order.order_id] for order in unpaid[account_id]},
            periods[account_id],
            conversions.get(renewal_days[account_id]),
            data.get(account_id),
            cards_on_file.get(account_id),
            ids.renewal_invoice_id(account_id, renewal_days[account_id]) in named,
        )
        for account_id in known
    }
