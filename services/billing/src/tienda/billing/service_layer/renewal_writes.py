"""Renewal's writes of the invoices issued at once, kept in memory while a transaction renews its
accounts and written when it commits, in one multi-row statement per table: the accounts' new
period and credit, the invoices and their priced lines, the charges now invoiced or billed through
the period, the orders carried, the autopay requests. A transaction of fifty accounts writes them
in eight statements, where writing them account by account took about ten per account.

They are written before the accounts' snapshots are read (``views.emit_snapshot`` registers its
action after this one, at every account, so it always runs last); a failure of any of them fails
the commit, and renewal redoes the transaction's accounts one by one."""

import asyncio
from dataclasses import dataclass, field
from datetime import date, datetime

from tienda.billing.adapters import accounts, charges, invoices, orders, payments
from tienda.billing.adapters.charges import ChargeKey
from tienda.billing.adapters.invoices import IssuedInvoice
from tienda.billing.adapters.payments import PaymentRequest
from tienda.billing.domain.accounts import BillingAccount
from tienda.billing.domain.renewal import RenewalInvoice
from tienda.messaging.unit_of_work import UnitOfWork


@dataclass
class RenewalWrites:
    """What this transaction's renewals issued at once, to write at its commit."""

    uow: UnitOfWork
    now: datetime
    accounts: list[BillingAccount] = field(default_factory=list)
    invoices: list[IssuedInvoice] = field(default_factory=list)
    charges_invoiced: list[tuple[ChargeKey, str]] = field(default_factory=list)
    orders_carried: list[tuple[str, str]] = field(default_factory=list)
    billed_through: list[tuple[ChargeKey, date]] = field(default_factory=list)
    requests: list[PaymentRequest] = field(default_factory=list)

    @classmethod
    def of(cls, uow: UnitOfWork, now: datetime) -> "RenewalWrites":
        """This transaction's writes of renewals at ``now``, registered to run at its commit the first time."""
        key = ("RenewalWrites", now)
        pending = uow.before_commit_action(key)
        if isinstance(pending, RenewalWrites):
            return pending
        writes = cls(uow, now)
        uow.before_commit(key, writes)
        return writes

    def add(
        self, account: BillingAccount, issued: IssuedInvoice, renewal: RenewalInvoice, request: PaymentRequest | None
    ) -> None:
        """An account renewed into ``issued``; ``account`` with its new period and credit."""
        invoice_id = issued.new.invoice_id
        self.accounts.append(account)
        self.invoices.append(issued)
        self.charges_invoiced += [((c.charge.activation_id, c.charge.line), invoice_id) for c in renewal.prorated]
        self.orders_carried += [(order.order_id, invoice_id) for order in renewal.carried]
        start = renewal.period.start
        self.billed_through += [((c.charge.activation_id, c.charge.line), start) for c in renewal.recurring]
        if request is not None:
            self.requests.append(request)

    async def __call__(self) -> None:
        session, now = self.uow.session, self.now
        await accounts.save_accounts(session, self.accounts, now)
        await invoices.add_issued_invoices(session, self.invoices, now)
        await asyncio.sleep(0)  # SQLite runs on the loop: the loop's other work between two statements
        await charges.invoice_charges_into(session, self.charges_invoiced)
        await orders.carry_orders_into(session, self.orders_carried)
        await charges.invoice_order_charges_into(session, self.orders_carried)
        await asyncio.sleep(0)
        await charges.mark_recurring_through(session, self.billed_through)
        await payments.add_payment_requests(session, self.requests, now)
