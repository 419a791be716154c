"""Payments from the gateway: matched to an order or invoice of the account by reference.

Full amount: paid. Less: partially paid, the balance stays due. More: paid, and the rest
is a credit applied to the account's next invoice. A payment for an order that was
carried into a renewal invoice pays that invoice. An unknown reference: the payment is
kept as unmatched and raised to operations. The same gateway payment id again: nothing.
"""

from dataclasses import dataclass, replace
from typing import Any

from tienda.billing.adapters import repository
from tienda.billing.adapters.repository import InvoiceRecord, OrderRecord
from tienda.billing.domain.documents import DocumentStatus
from tienda.billing.domain.payments import Balance, settle
from tienda.billing.service_layer import alerts, autopay, documents, views
from tienda.contracts.business_day import business_date
from tienda.contracts.envelope import Envelope
from tienda.contracts.messages import billing as wire
from tienda.contracts.messages.operations import Severity
from tienda.contracts.messages.payment import PaymentFailed, PaymentReceived
from tienda.messaging.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Applied:
    document_id: str
    kind: wire.DocumentKind
    applied: int
    credit: int
    balance_due: int | None
    status: DocumentStatus
    order_now_paid: OrderRecord | None = None


async def record_payment(envelope: Envelope[PaymentReceived], uow: UnitOfWork) -> None:
    payment, account_id, now = envelope.payload, envelope.account_id, uow.now
    if await repository.payment_recorded(uow.session, payment.payment_id):
        return
    row: dict[str, Any] = {
        "payment_id": payment.payment_id,
        "account_id": account_id,
        "reference": payment.reference,
        "amount_clp": payment.amount_clp,
        "method": payment.method,
        "paid_by": payment.paid_by,
        "paid_at": payment.paid_at,
        "event_id": str(envelope.event_id),
        "recorded_at": now,
    }
    document = await _document(uow, account_id, payment.reference)
    if document is None:
        await repository.add_payment(uow.session, {**row, "matched": False})
        await _unmatched(envelope, uow)
    else:
        applied = await (
            _pay_order(uow, document, payment.amount_clp)
            if isinstance(document, OrderRecord)
            else _pay_invoice(uow, document, payment.amount_clp)
        )
        await repository.add_payment(
            uow.session,
            {
                **row,
                "matched": True,
                "document_id": applied.document_id,
                "document_kind": applied.kind.value,
                "applied_clp": applied.applied,
                "credit_clp": applied.credit,
            },
        )
        await _recorded(envelope, uow, applied)
        if applied.order_now_paid is not None:
            await documents.invoice_paid_order(
                uow, applied.order_now_paid, business_date(payment.paid_at), envelope, now
            )
    await views.emit_snapshot(uow, account_id, envelope)


async def _document(uow: UnitOfWork, account_id: str, reference: str) -> OrderRecord | InvoiceRecord | None:
    order = await repository.order(uow.session, account_id, reference)
    if order is not None and order.status is DocumentStatus.CARRIED and order.carried_into:
        return await repository.invoice(uow.session, account_id, order.carried_into)
    return order or await repository.invoice(uow.session, account_id, reference)


async def _pay_order(uow: UnitOfWork, order: OrderRecord, amount: int) -> Applied:
    kind = wire.DocumentKind.ORDER
    if order.total_clp is None:
        paid = order.paid_clp + amount
        await repository.update_order(uow.session, order.order_id, paid_clp=paid)
        return Applied(order.order_id, kind, amount, 0, None, order.status)
    settled = settle(max(order.total_clp - order.paid_clp, 0), amount)
    balance = Balance(order.total_clp, 0, order.paid_clp + settled.applied)
    await repository.update_order(uow.session, order.order_id, paid_clp=balance.paid, status=balance.status.value)
    await documents.add_credit(uow, order.account_id, settled.credit)
    newly_paid = balance.status is DocumentStatus.PAID and order.status is not DocumentStatus.PAID
    return Applied(
        order.order_id,
        kind,
        settled.applied,
        settled.credit,
        settled.balance_due,
        balance.status,
        order_now_paid=replace(order, status=balance.status) if newly_paid else None,
    )


async def _pay_invoice(uow: UnitOfWork, invoice: InvoiceRecord, amount: int) -> Applied:
    kind = wire.DocumentKind.INVOICE
    if invoice.total_clp is None:
        await repository.update_invoice(uow.session, invoice.invoice_id, paid_clp=invoice.paid_clp + amount)
        return Applied(invoice.invoice_id, kind, amount, 0, None, invoice.status)
    settled = settle(max(invoice.amount_due or 0, 0), amount)
    balance = Balance(invoice.total_clp, invoice.credit_applied_clp, invoice.paid_clp + settled.applied)
    values: dict[str, Any] = {"paid_clp": balance.paid, "status": balance.status.value}
    if balance.status is DocumentStatus.PAID and invoice.autopay_status in (autopay.REQUESTED, autopay.FAILED):
        values["autopay_status"] = autopay.SETTLED
    await repository.update_invoice(uow.session, invoice.invoice_id, **values)
    await documents.add_credit(uow, invoice.account_id, settled.credit)
    return Applied(invoice.invoice_id, kind, settled.applied, settled.credit, settled.balance_due, balance.status)


async def _recorded(envelope: Envelope[PaymentReceived], uow: UnitOfWork, applied: Applied) -> None:
    payment = envelope.payload
    await uow.emit(
        wire.PaymentRecorded(
            payment_id=payment.payment_id,
            reference=payment.reference,
            document_id=applied.document_id,
            document_kind=applied.kind,
            amount_clp=payment.amount_clp,
            method=payment.method,
            paid_by=payment.paid_by,
            paid_at=payment.paid_at,
            applied_clp=applied.applied,
            credit_clp=applied.credit,
            balance_due_clp=applied.balance_due,
            document_status=wire.DocumentStatus(applied.status.value),
        ),
        account_id=envelope.account_id,
        cause=envelope,
    )


async def _unmatched(envelope: Envelope[PaymentReceived], uow: UnitOfWork) -> None:
    payment, account_id = envelope.payload, envelope.account_id
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
        cause=envelope,
    )
    await alerts.raise_alert(
        uow,
        account_id,
        "payment_unmatched",
        Severity.WARNING,
        f"Payment {payment.payment_id} of {payment.amount_clp} CLP from {payment.paid_by} quotes {payment.reference}, "
        f"which is no order or invoice of account {account_id}: reconcile it by hand.",
        {
            "payment_id": payment.payment_id,
            "reference": payment.reference,
            "amount_clp": payment.amount_clp,
            "method": payment.method,
            "paid_at": payment.paid_at.isoformat(),
        },
        envelope,
    )


async def record_payment_failure(envelope: Envelope[PaymentFailed], uow: UnitOfWork) -> None:
    """A charge the gateway could not make; for an autopay invoice, the scheduler retries it."""
    failure, account_id = envelope.payload, envelope.account_id
    if await repository.payment_failure_recorded(uow.session, failure.payment_id):
        return
    await repository.add_payment_failure(
        uow.session,
        {
            "payment_id": failure.payment_id,
            "account_id": account_id,
            "reference": failure.reference,
            "amount_clp": failure.amount_clp,
            "reason": failure.reason,
            "failed_at": failure.failed_at,
            "recorded_at": uow.now,
        },
    )
    invoice = await repository.invoice(uow.session, account_id, failure.reference)
    if invoice is not None:
        await autopay.record_failure(uow, invoice, failure.reason, failure.failed_at)
