"""Renewal: on the first day of a period, each account's renewal invoice, exactly once.

The worker's scheduler runs it every few minutes for the day in Chile; an operator runs
it for a given date with ``python -m tienda.billing.renewal run --date 2027-01-31`` or
``POST /admin/renewals``. All three call ``renew_due_accounts``. Each account renews in
its own transaction; the invoice of an account and period is unique in the database, so
two runs that race issue it once. The renewal invoice is dated on the renewal date (the
first day of the period) and converts at that date's UF value; without it, the invoice
is held until the value arrives.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime

from tienda.billing.adapters import accounts, charges, invoices, orders, uf_values
from tienda.billing.adapters.charges import ChargeRecord
from tienda.billing.adapters.invoices import NewInvoice
from tienda.billing.domain import ids
from tienda.billing.domain.accounts import BillingAccount
from tienda.billing.domain.charges import PlacedCharge
from tienda.billing.domain.periods import Period
from tienda.billing.domain.renewal import CarriedOrder, renewal_invoice
from tienda.billing.service_layer import documents, payments, views
from tienda.messaging.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Renewed:
    account_id: str
    invoice_id: str
    period_start: date
    period_end: date
    status: str


async def renew_due_accounts(uow_factory: Callable[[], UnitOfWork], on: date, now: datetime) -> list[Renewed]:
    """Issue the renewal invoices due by ``on`` of every account, each account in its own transaction."""
    async with uow_factory() as uow:
        due = await accounts.accounts_due(uow.session, on)
    renewed: list[Renewed] = []
    for account_id in due:
        try:
            async with uow_factory() as uow:
                issued = await renew_account(uow, account_id, on, now)
                await uow.commit()
        except Exception:
            log.exception("renewal of %s for %s failed; the next run retries it", account_id, on)
            continue
        renewed += issued
    return renewed


async def renew_account(uow: UnitOfWork, account_id: str, on: date, now: datetime) -> list[Renewed]:
    """Every renewal of the account due by ``on``, oldest period first."""
    account = await accounts.account(uow.session, account_id, for_update=True)
    if account is None:
        return []
    renewed = []
    for period in account.due_periods(on):
        account = replace(account, current_period=period)
        await accounts.save_account(uow.session, account, now)
        renewed.append(await issue_renewal_invoice(uow, account, period, now))
    if renewed:
        await views.emit_snapshot(uow, account_id, None)
    return renewed


async def issue_renewal_invoice(uow: UnitOfWork, account: BillingAccount, period: Period, now: datetime) -> Renewed:
    """The invoice of ``period``: plan, add-ons, prorated charges, unpaid orders carried in."""
    session, account_id = uow.session, account.account_id
    reductions = await charges.reductions_by_charge(session, account_id)

    def placed(record: ChargeRecord) -> PlacedCharge:
        return record.placed(reductions.get(record.key, ()))

    pending = [placed(r) for r in await charges.pending_renewal_charges(session, account_id, period.start)]
    recurring = [placed(r) for r in await charges.recurring_charges(session, account_id, period.start)]
    carried = []
    for unpaid in await orders.unpaid_orders_before(session, account_id, period.start):
        lines = await charges.order_charges(session, unpaid.order_id)
        placed_lines = tuple(r.placed(conversion=unpaid.conversion) for r in lines)
        carried.append(CarriedOrder(unpaid.order_id, placed_lines, unpaid.paid_clp))
    invoice = renewal_invoice(
        account,
        period,
        pending=pending,
        recurring=recurring,
        issued_renewals=await invoices.renewal_periods(session, account_id),
        unpaid_orders=carried,
    )
    invoice_id = ids.renewal_invoice_id(account_id, period.start)
    new = NewInvoice(
        invoice_id,
        account_id,
        documents.RENEWAL,
        period.start,
        period,
        None,
        period.start,
        invoice.paid_by_carried_orders,
        invoice.lines,
    )
    await invoices.add_invoice(session, new, now)
    prorated_keys = [(c.charge.activation_id, c.charge.line) for c in invoice.prorated]
    await charges.invoice_charges(session, prorated_keys, invoice_id)
    carried_ids = [order.order_id for order in invoice.carried]
    await orders.carry_orders(session, carried_ids, invoice_id)
    await charges.invoice_order_charges(session, carried_ids, invoice_id)
    recurring_keys = [(c.charge.activation_id, c.charge.line) for c in invoice.recurring]
    await charges.mark_recurring(session, recurring_keys, period.start)
    return await _complete_if_uf_known(uow, account_id, invoice_id, period, now)


async def _complete_if_uf_known(
    uow: UnitOfWork, account_id: str, invoice_id: str, period: Period, now: datetime
) -> Renewed:
    """Issue the invoice if the UF value of its date is known (else it stays held), then apply the
    payments that quoted it before it existed."""
    conversion = await uf_values.uf_value(uow.session, period.start)
    record = await invoices.invoice(uow.session, account_id, invoice_id)
    assert record is not None
    if conversion is not None:
        await documents.complete_invoice(uow, record, conversion, None, now)
    else:
        log.warning("renewal invoice %s of %s held: no UF value for %s yet", invoice_id, account_id, period.start)
    await payments.settle_waiting(uow, account_id, invoice_id, None)
    record = await invoices.invoice(uow.session, account_id, invoice_id) or record
    return Renewed(account_id, invoice_id, period.start, period.end, record.status.value)
