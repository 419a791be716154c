"""Payments from the gateway: matched to an order or invoice of the account by reference.

Full amount: paid. Less: partially paid, the balance stays due. More: paid, and the rest
is a credit applied to the account's next invoice. A payment for an order that was
carried into a renewal invoice pays that invoice. The same gateway payment id again applies
nothing; if it names another account, reference or amount, operations are told
(``payment_repeated_differently``): the gateway sent two different payments under one id, and
only the first was applied.

A reference billing has no document for is kept as unmatched. Document ids are derived
(``domain/ids.py``), so the gateway may quote an order or invoice billing has not created
yet (its payment outran the messages that create it): such a payment **waits** for its
document and is applied the moment the document exists. Only after a grace period
(``TIENDA_BILLING_PAYMENT_MATCH_GRACE_MINUTES``, 24 h by default) does the scheduler raise it
(``PaymentUnmatched`` and a ``payment_unmatched`` alert); a document that appears even later
is still paid by it. A reference that can never be a document of the account (not an id
billing makes, another account's document, another account's renewal invoice) is raised at once.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from tienda.billing.adapters import invoices, orders, payments
from tienda.billing.adapters.invoices import InvoiceRecord
from tienda.billing.adapters.orders import OrderRecord
from tienda.billing.adapters.payments import Match, PaymentRecord
from tienda.billing.domain import ids
from tienda.billing.domain.autopay import AutopayStatus
from tienda.billing.domain.documents import DocumentStatus
from tienda.billing.domain.payments import Balance, settle
from tienda.billing.service_layer import alerts, documents
from tienda.contracts.business_day import business_date
from tienda.contracts.envelope import EnvelopeHeader
from tienda.contracts.messages import billing as wire
from tienda.contracts.messages.operations import Severity
from tienda.messaging.unit_of_work import UnitOfWork

Document = OrderRecord | InvoiceRecord


@dataclass(frozen=True)
class Applied:
    """What a payment did to its document."""

    match: Match
    balance_due: int | None
    """What the document still owes; None while its amounts wait for a UF value."""
    status: DocumentStatus
    order_now_paid: OrderRecord | None = None


async def document_of(uow: UnitOfWork, account_id: str, reference: str) -> Document | None:
    """The account's order or invoice a reference names; an order carried into a renewal invoice
    names that invoice."""
    order = await orders.order(uow.session, account_id, reference)
    if order is not None and order.status is DocumentStatus.CARRIED and order.carried_into:
        return await invoices.invoice(uow.session, account_id, order.carried_into)
    return order or await invoices.invoice(uow.session, account_id, reference)


async def receive(uow: UnitOfWork, payment: PaymentRecord, cause: EnvelopeHeader) -> None:
    """Record a payment the gateway received and apply it to the document it quotes; without
    one, keep it waiting for the document, or raise it at once if no such document can come."""
    document = await document_of(uow, payment.account_id, payment.reference)
    if document is None:
        if await _may_still_appear(uow, payment.account_id, payment.reference):
            await payments.add_payment(uow.session, payment)
            return
        raised = replace(payment, unmatched_raised_at=uow.now)
        await payments.add_payment(uow.session, raised)
        await unmatched(uow, raised, cause)
        return
    applied = await apply(uow, document, payment.amount_clp)
    await payments.add_payment(uow.session, replace(payment, match=applied.match))
    await recorded(uow, payment, applied, cause)


async def _may_still_appear(uow: UnitOfWork, account_id: str, reference: str) -> bool:
    """Whether billing may still create a document of the account named ``reference``."""
    if not ids.could_name_document(account_id, reference):
        return False
    owners = {await orders.owner(uow.session, reference), await invoices.owner(uow.session, reference)}
    if reference.startswith("INV-ORD-"):
        owners.add(await orders.owner(uow.session, reference.removeprefix("INV-")))
    return owners <= {None, account_id}


async def settle_waiting(uow: UnitOfWork, account_id: str, document_id: str, cause: EnvelopeHeader | None) -> bool:
    """A document appeared: apply the payments that quoted it before it existed, oldest first.
    Whether there were any."""
    waiting_payments = await payments.awaiting(uow.session, account_id, document_id)
    for waiting in waiting_payments:
        document = await document_of(uow, account_id, document_id)
        if document is None:
            break
        applied = await apply(uow, document, waiting.amount_clp)
        await payments.match_payment(uow.session, waiting.payment_id, applied.match)
        await recorded(uow, waiting, applied, cause)
    return bool(waiting_payments)


async def raise_unmatched(uow_factory: Callable[[], UnitOfWork], now: datetime, grace: timedelta) -> int:
    """Raise the payments that waited longer than ``grace`` for their document; how many."""
    async with uow_factory() as uow:
        overdue = await payments.unraised_before(uow.session, now - grace)
        for payment in overdue:
            await unmatched(uow, payment, None, waited=grace)
        await payments.mark_unmatched_raised(uow.session, [payment.payment_id for payment in overdue], now)
        await uow.commit()
    return len(overdue)


async def apply(uow: UnitOfWork, document: Document, amount: int) -> Applied:
    """Apply ``amount`` to the document; an order paid in full by it gets its invoice."""
    if isinstance(document, OrderRecord):
        applied = await _pay_order(uow, document, amount)
    else:
        applied = await _pay_invoice(uow, document, amount)
    return applied


async def _pay_order(uow: UnitOfWork, order: OrderRecord, amount: int) -> Applied:
    kind = wire.DocumentKind.ORDER.value
    if order.total_clp is None:
        await orders.pay_order(uow.session, order.order_id, order.paid_clp + amount, order.status)
        return Applied(Match(order.order_id, kind, amount, 0), None, order.status)
    settled = settle(max(order.total_clp - order.paid_clp, 0), amount)
    balance = Balance(order.total_clp, 0, order.paid_clp + settled.applied)
    await orders.pay_order(uow.session, order.order_id, balance.paid, balance.status)
    await documents.add_credit(uow, order.account_id, settled.credit)
    newly_paid = balance.status is DocumentStatus.PAID and order.status is not DocumentStatus.PAID
    return Applied(
        Match(order.order_id, kind, settled.applied, settled.credit),
        settled.balance_due,
        balance.status,
        order_now_paid=replace(order, status=balance.status) if newly_paid else None,
    )


async def _pay_invoice(uow: UnitOfWork, invoice: InvoiceRecord, amount: int) -> Applied:
    kind = wire.DocumentKind.INVOICE.value
    current = invoice.balance
    if current is None:
        await invoices.pay_invoice(uow.session, invoice.invoice_id, invoice.paid_clp + amount, invoice.status)
        return Applied(Match(invoice.invoice_id, kind, amount, 0), None, invoice.status)
    settled = settle(max(current.due, 0), amount)
    balance = replace(current, paid=current.paid + settled.applied)
    autopay = invoice.autopay
    settles_autopay = autopay.status in (AutopayStatus.REQUESTED, AutopayStatus.FAILED)
    ended = autopay.ended(AutopayStatus.SETTLED) if balance.status is DocumentStatus.PAID and settles_autopay else None
    await invoices.pay_invoice(uow.session, invoice.invoice_id, balance.paid, balance.status, ended)
    await documents.add_credit(uow, invoice.account_id, settled.credit)
    return Applied(
        Match(invoice.invoice_id, kind, settled.applied, settled.credit), settled.balance_due, balance.status
    )


async def recorded(uow: UnitOfWork, payment: PaymentRecord, applied: Applied, cause: EnvelopeHeader | None) -> None:
    """Announce the payment as applied (PaymentRecorded); an order it paid in full gets its invoice."""
    match = applied.match
    await uow.emit(
        wire.PaymentRecorded(
            payment_id=payment.payment_id,
            reference=payment.reference,
            document_id=match.document_id,
            document_kind=wire.DocumentKind(match.document_kind),
            amount_clp=payment.amount_clp,
            method=payment.method,
            paid_by=payment.paid_by,
            paid_at=payment.paid_at,
            applied_clp=match.applied_clp,
            credit_clp=match.credit_clp,
            balance_due_clp=applied.balance_due,
            document_status=wire.DocumentStatus(applied.status.value),
        ),
        account_id=payment.account_id,
        cause=cause,
    )
    if applied.order_now_paid is not None:
        paid_on = business_date(payment.paid_at)
        await documents.invoice_paid_order(uow, applied.order_now_paid, paid_on, cause, uow.now)
        await settle_waiting(uow, payment.account_id, ids.order_invoice_id(match.document_id), cause)


async def unmatched(
    uow: UnitOfWork, payment: PaymentRecord, cause: EnvelopeHeader | None, waited: timedelta | None = None
) -> None:
    """Tell the gateway's side and operations that a payment matches no document of its account."""
    account_id = payment.account_id
    after = f" (billing waited {waited.total_seconds() / 3600:g} h for it)" if waited else ""
    await uow.emit(
        wire.PaymentUnmatched(
            payment_id=payment.payment_id,
            reference=payment.reference,
            amount_clp=payment.amount_clp,
            method=payment.method,
            paid_by=payment.paid_by,
            paid_at=payment.paid_at,
        ),
        account_id=account_id,
        cause=cause,
    )
    await alerts.raise_alert(
        uow,
        account_id,
        "payment_unmatched",
        Severity.WARNING,
        f"Payment {payment.payment_id} of {payment.amount_clp} CLP from {payment.paid_by} quotes "
        f"{payment.reference}, which is no order or invoice of account {account_id}{after}: reconcile it by hand.",
        {
            "payment_id": payment.payment_id,
            "reference": payment.reference,
            "amount_clp": payment.amount_clp,
            "method": payment.method,
            "paid_at": payment.paid_at.isoformat(),
        },
        cause,
    )


async def repeated_differently(
    uow: UnitOfWork, recorded: PaymentRecord, repeat: PaymentRecord, cause: EnvelopeHeader
) -> None:
    """The gateway sent a payment id billing already recorded, with other figures: apply nothing
    more, and tell operations which is which."""
    await alerts.raise_alert(
        uow,
        repeat.account_id,
        "payment_repeated_differently",
        Severity.WARNING,
        f"Payment {repeat.payment_id} arrived again with {repeat.amount_clp} CLP for {repeat.reference} "
        f"(account {repeat.account_id}), but it was recorded with {recorded.amount_clp} CLP for "
        f"{recorded.reference} (account {recorded.account_id}): only the first was applied; ask the "
        "gateway which payment is real and record the other by hand.",
        {
            "payment_id": repeat.payment_id,
            "recorded_account_id": recorded.account_id,
            "recorded_reference": recorded.reference,
            "recorded_amount_clp": recorded.amount_clp,
            "recorded_event_id": recorded.event_id,
            "repeat_account_id": repeat.account_id,
            "repeat_reference": repeat.reference,
            "repeat_amount_clp": repeat.amount_clp,
            "repeat_event_id": repeat.event_id,
        },
        cause,
    )
