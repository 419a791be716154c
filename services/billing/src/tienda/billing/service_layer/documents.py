"""Orders and invoices: opened, held for a UF value, completed, paid, announced.

A document whose conversion needs a UF value billing does not know yet is stored as
**held**: its lines and the charges on it are fixed, its pesos are not. It completes, in
the transaction that records the value, when the value arrives. A payment that reached
billing before its document is applied as soon as the document exists (``payments``).
"""

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime
from functools import lru_cache

from tienda.billing.adapters import accounts, billing_data, charges, invoices, orders, payments, uf_values
from tienda.billing.adapters.billing_data import BillingDataVersion
from tienda.billing.adapters.charges import ChargeRecord
from tienda.billing.adapters.invoices import InvoiceRecord, NewInvoice
from tienda.billing.adapters.orders import OrderRecord
from tienda.billing.domain import ids
from tienda.billing.domain.documents import Conversion, DocumentStatus, PricedLine, document_totals, price_all
from tienda.billing.domain.payments import Balance, issue, settle_in_turn
from tienda.billing.service_layer import alerts, autopay, views
from tienda.contracts.business_day import business_date
from tienda.contracts.envelope import EnvelopeHeader
from tienda.contracts.messages import billing as wire
from tienda.contracts.pricing.money import Totals
from tienda.contracts.types import Person
from tienda.messaging.unit_of_work import UnitOfWork

ORDER, RENEWAL = "order", "renewal"


def document_line(priced: PricedLine) -> wire.DocumentLine:
    """The wire line of a priced line; remembered (wire models are frozen), as a renewal day's
    lines repeat from one account to the next. The decimals' texts are part of the key: equal
    decimals of another scale (``0.35``, ``0.3500``) are written as they came, as before."""
    return _document_line(priced, str(priced.line.unit_price_uf), str(priced.conversion.clp_per_uf))


@lru_cache(maxsize=1024)
def _document_line(priced: PricedLine, _price: str, _rate: str) -> wire.DocumentLine:
    line = priced.line
    return wire.DocumentLine(
        kind=wire.LineKind(line.kind.value),
        description=line.description,
        sku=line.sku,
        quantity=line.quantity,
        unit_price_uf=line.unit_price_uf,
        months=line.months,
        period_start=line.period.start,
        period_end=line.period.end,
        days=line.days,
        period_days=line.period.days,
        amount_uf=line.amount_uf_shown,
        uf_date=priced.conversion.uf_date,
        clp_per_uf=priced.conversion.clp_per_uf,
        amount_clp=priced.amount_clp,
        activation_id=line.activation_id,
        activation_line=line.activation_line,
        order_id=line.order_id,
    )


async def resettle_earlier_payments(uow: UnitOfWork, document_id: str, paid_before: int, total: int) -> date | None:
    """A held document got its amounts: the payments applied to it while it was held are settled
    against its total in turn (applied and credit), as if they had come after it was priced.
    The day (in Chile) of the payment that paid it in full, if one did."""
    if paid_before <= 0:
        return None
    earlier = await payments.matched_to(uow.session, document_id)
    paid_on = None
    for payment, settled in zip(earlier, settle_in_turn(total, [p.amount_clp for p in earlier]), strict=True):
        if payment.match is not None:
            match = replace(payment.match, applied_clp=settled.applied, credit_clp=settled.credit)
            await payments.match_payment(uow.session, payment.payment_id, match)
        if paid_on is None and settled.balance_due == 0:
            paid_on = business_date(payment.paid_at)
    return paid_on


async def add_credit(uow: UnitOfWork, account_id: str, amount: int) -> None:
    """Over-payment kept for the account's next invoice."""
    if amount > 0:
        await accounts.add_credit(uow.session, account_id, amount)


# --- orders -------------------------------------------------------------------------------------


async def open_order(
    uow: UnitOfWork, account_id: str, lines: Sequence[ChargeRecord], cause: EnvelopeHeader | None, now: datetime
) -> OrderRecord:
    """The online order of one activation whose charges (``lines``) are placed in their period."""
    first = lines[0]
    order_date = first.charge.effective_date
    order = OrderRecord(
        order_id=ids.order_id(first.charge.activation_id),
        account_id=account_id,
        activation_id=first.charge.activation_id,
        request_id=first.request_id,
        ordered_by=first.requested_by,
        order_date=order_date,
        status=DocumentStatus.HELD,
        uf_date=order_date,
        conversion=None,
        net_clp=None,
        iva_clp=None,
        total_clp=None,
        paid_clp=0,
        carried_into=None,
        invoice_id=None,
        held_since=now,
    )
    await orders.add_order(uow.session, order, now)
    conversion = await uf_values.uf_value(uow.session, order_date)
    if conversion is not None:
        await complete_order(uow, order, conversion, cause, now, lines)
    return order


async def complete_order(
    uow: UnitOfWork,
    order: OrderRecord,
    conversion: Conversion,
    cause: EnvelopeHeader | None,
    now: datetime,
    lines: Sequence[ChargeRecord] | None = None,
) -> None:
    """Price a held order at the UF value of its date and announce it to the gateway."""
    records = lines if lines is not None else await charges.order_charges(uow.session, order.order_id)
    priced = price_all([record.placed().prorated_line() for record in records], conversion)
    figures = document_totals(priced)
    settled = issue(figures.total, order.paid_clp, 0, use_credit=False)
    status = settled.balance.status
    await orders.price_order(uow.session, order.order_id, conversion, figures, settled.balance)
    paid_on = await resettle_earlier_payments(uow, order.order_id, order.paid_clp, figures.total)
    await uow.emit(
        wire.OrderCreated(
            order_id=order.order_id,
            payment_reference=order.order_id,
            activation_id=order.activation_id,
            request_id=order.request_id,
            ordered_by=Person.model_validate(order.ordered_by),
            order_date=order.order_date,
            lines=[document_line(line) for line in priced],
            net_clp=figures.net,
            iva_clp=figures.iva,
            total_clp=figures.total,
        ),
        account_id=order.account_id,
        cause=cause,
    )
    await add_credit(uow, order.account_id, settled.over_payment)
    if status is DocumentStatus.PAID:
        paid = replace(order, status=status, conversion=conversion, total_clp=figures.total)
        await invoice_paid_order(uow, paid, paid_on or order.order_date, cause, now)


async def invoice_paid_order(
    uow: UnitOfWork, order: OrderRecord, paid_on: date, cause: EnvelopeHeader | None, now: datetime
) -> None:
    """An order paid in full gets its invoice, at the order's pesos, issued as paid."""
    if order.conversion is None or order.total_clp is None:
        raise ValueError(f"order {order.order_id} has no amounts yet: it cannot be invoiced")
    records = await charges.order_charges(uow.session, order.order_id)
    invoice_id = ids.order_invoice_id(order.order_id)
    lines = [replace(record.placed().prorated_line(), conversion=order.conversion) for record in records]
    new = NewInvoice(
        invoice_id, order.account_id, ORDER, paid_on, None, order.order_id, order.uf_date, order.total_clp, lines
    )
    await invoices.add_invoice(uow.session, new, now)
    await charges.invoice_order_charges(uow.session, [order.order_id], invoice_id)
    await orders.set_order_invoice(uow.session, order.order_id, invoice_id)
    record = await invoices.invoice(uow.session, order.account_id, invoice_id)
    assert record is not None
    await complete_invoice(uow, record, order.conversion, cause, now, use_credit=False)


# --- invoices -----------------------------------------------------------------------------------


async def complete_invoice(
    uow: UnitOfWork,
    invoice: InvoiceRecord,
    conversion: Conversion,
    cause: EnvelopeHeader | None,
    now: datetime,
    *,
    use_credit: bool = True,
) -> DocumentStatus:
    """Price a held invoice, apply earlier payments and the account's credit, issue it, and ask
    the gateway to charge the card if the account has one and something is due. Its status now."""
    session = uow.session
    priced = price_all(await invoices.invoice_lines_of(session, invoice.invoice_id), conversion)
    figures = document_totals(priced)
    account = await accounts.account(session, invoice.account_id, for_update=True)
    credit = account.credit_clp if account is not None and use_credit else 0
    settled = issue(figures.total, invoice.paid_clp, credit, use_credit)
    balance = settled.balance
    data = await billing_data.current_billing_data(session, invoice.account_id)
    await invoices.price_invoice_lines(session, invoice.invoice_id, priced)
    await invoices.issue_invoice(
        session, invoice.invoice_id, conversion, figures, balance, data.version if data else None, now
    )
    await resettle_earlier_payments(uow, invoice.invoice_id, invoice.paid_clp, figures.total)
    if account is not None and use_credit:
        await accounts.set_credit(session, invoice.account_id, settled.credit_left)
    elif settled.over_payment:
        await add_credit(uow, invoice.account_id, settled.over_payment)
    await announce_invoice(uow, invoice, priced, figures, balance, data, cause)
    if balance.due > 0:
        issued = replace(invoice, status=balance.status, total_clp=figures.total, paid_clp=balance.paid)
        await autopay.request_payment(uow, issued, balance.due, 1, cause, now)
    return balance.status


async def announce_invoice(
    uow: UnitOfWork,
    invoice: InvoiceRecord,
    priced: Sequence[PricedLine],
    figures: Totals,
    balance: Balance,
    data: BillingDataVersion | None,
    cause: EnvelopeHeader | None,
) -> None:
    """InvoiceIssued for an invoice just priced, and the alert when it went out without billing data."""
    carried = sorted({line.line.order_id for line in priced if line.line.order_id and invoice.kind == RENEWAL})
    await uow.emit(
        wire.InvoiceIssued(
            invoice_id=invoice.invoice_id,
            payment_reference=invoice.invoice_id,
            kind=wire.InvoiceKind(invoice.kind),
            issue_date=invoice.issue_date,
            period_start=invoice.period.start if invoice.period else None,
            period_end=invoice.period.end if invoice.period else None,
            lines=[document_line(line) for line in priced],
            net_clp=figures.net,
            iva_clp=figures.iva,
            total_clp=figures.total,
            credit_applied_clp=balance.credit_applied,
            paid_clp=balance.paid,
            amount_due_clp=balance.due,
            status=wire.DocumentStatus(balance.status.value),
            carried_orders=carried,
            billing_data=views.billing_data_view(data),
        ),
        account_id=invoice.account_id,
        cause=cause,
    )
    if data is None:
        await alerts.billing_data_missing(uow, invoice.account_id, invoice.invoice_id, cause)
