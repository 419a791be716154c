"""What renewal reads of an account, read for several accounts at once.

A renewal transaction reads a few accounts (locked) and everything their renewal needs in a few
queries, then renews them one by one in memory. The reads are those of the account's first due
period: an account that catches up on several periods reads the later ones itself, after the
earlier ones' writes."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from tienda.billing.adapters import accounts, charges, invoices, orders
from tienda.billing.adapters.charges import ChargeKey, ChargeRecord
from tienda.billing.adapters.orders import OrderRecord
from tienda.billing.domain.accounts import BillingAccount
from tienda.billing.domain.charges import ChargeStatus, Reduction
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

    def pending(self, before: date) -> list[ChargeRecord]:
        """As ``charges.pending_renewal_charges``."""
        return [
            record
            for record in self.placed
            if record.status is ChargeStatus.PENDING_RENEWAL and record.period and record.period.start < before
        ]

    def recurring(self, before: date) -> list[ChargeRecord]:
        """As ``charges.recurring_charges``."""
        return [record for record in self.placed if record.period and record.period.end < before]

    def unpaid_before(self, before: date) -> list[OrderRecord]:
        """As ``orders.unpaid_orders_before``."""
        return [order for order in self.unpaid_orders if order.order_date < before]


async def read_for_renewal(session: AsyncSession, account_ids: list[str]) -> dict[str, RenewalReads]:
    """The accounts among these that billing knows, locked, with their renewal inputs, in seven queries."""
    found = await accounts.accounts_by_id(session, account_ids, for_update=True)
    known = [account_id for account_id in account_ids if account_id in found]
    reductions = await charges.reductions_of(session, known)
    placed = await charges.placed_charges_of(session, known)
    unpaid = await orders.unpaid_orders_of(session, known)
    lines = await charges.charges_of_orders(session, [order.order_id for some in unpaid.values() for order in some])
    periods = await invoices.renewal_periods_of(session, known)
    return {
        account_id: RenewalReads(
            found[account_id],
            reductions[account_id],
            placed[account_id],
            unpaid[account_id],
            {order.order_id: lines[order.order_id] for order in unpaid[account_id]},
            periods[account_id],
        )
        for account_id in known
    }
