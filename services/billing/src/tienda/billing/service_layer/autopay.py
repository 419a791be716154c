"""Card autopay: payment requests to the gateway for the subscribed card, retries, giving up.

Billing keeps only the gateway's token reference, the brand and the last four digits. A
request whose payload carries a card number is refused before anything is stored: it is
dead-lettered with a reason that does not repeat the number.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tienda.billing.adapters import cards, invoices, payments
from tienda.billing.adapters.invoices import InvoiceRecord
from tienda.billing.domain import ids
from tienda.billing.domain.autopay import AutopayStatus, Step, next_step
from tienda.billing.service_layer import alerts, views
from tienda.contracts.cards import contains_card_number
from tienda.contracts.envelope import EnvelopeHeader, EventPayload
from tienda.contracts.messages import billing as wire
from tienda.contracts.messages.operations import Severity
from tienda.messaging.errors import PermanentFailure
from tienda.messaging.unit_of_work import UnitOfWork


def refuse_card_numbers(payload: EventPayload) -> None:
    """PermanentFailure (a dead letter, nothing stored) if the payload carries a card number."""
    if contains_card_number(payload.model_dump(mode="json")):
        raise PermanentFailure(f"{payload.message_type} refused: {wire.CARD_NUMBER_REFUSAL}")


async def request_payment(
    uow: UnitOfWork, invoice: InvoiceRecord, amount_clp: int, attempt: int, cause: EnvelopeHeader | None, now: datetime
) -> bool:
    """Ask the gateway to charge the account's card for ``invoice``; False when the account has no card."""
    card = await cards.card(uow.session, invoice.account_id)
    if card is None:
        return False
    request = payment_request(invoice, amount_clp, attempt, card)
    await payments.add_payment_request(uow.session, request, now)
    await invoices.set_autopay(uow.session, invoice.invoice_id, invoice.autopay.requested(attempt))
    await uow.emit(payment_requested(request, card, now), account_id=invoice.account_id, cause=cause)
    return True


def payment_request(invoice: InvoiceRecord, amount_clp: int, attempt: int, card: cards.Card) -> payments.PaymentRequest:
    request_id = ids.payment_request_id(invoice.invoice_id, attempt)
    return payments.PaymentRequest(
        request_id, invoice.account_id, invoice.invoice_id, attempt, amount_clp, card.token_reference
    )


def payment_requested(request: payments.PaymentRequest, card: cards.Card, now: datetime) -> wire.PaymentRequested:
    """What the gateway is asked to charge, and to which card."""
    return wire.PaymentRequested(
        request_id=request.request_id,
        invoice_id=request.invoice_id,
        payment_reference=request.invoice_id,
        amount_clp=request.amount_clp,
        token_reference=card.token_reference,
        brand=card.brand,
        last_four=card.last_four,
        attempt=request.attempt,
        requested_at=now,
    )


async def charge_unpaid_invoices(uow: UnitOfWork, account_id: str, cause: EnvelopeHeader, now: datetime) -> None:
    """A card was subscribed: the account's issued invoices that still owe something and that no
    card was asked to pay go on autopay now, as if the card had been there when they were issued."""
    for invoice in await invoices.unpaid_invoices_never_charged(uow.session, account_id):
        due = invoice.amount_due or 0
        if due > 0:
            await request_payment(uow, invoice, due, 1, cause, now)


async def record_failure(uow: UnitOfWork, invoice: InvoiceRecord, reason: str, failed_at: datetime) -> None:
    """The gateway could not charge the card for an invoice: count it; the scheduler retries."""
    if invoice.autopay.status is not AutopayStatus.REQUESTED or not invoice.status.unpaid:
        return
    await invoices.set_autopay(uow.session, invoice.invoice_id, invoice.autopay.failed(reason, failed_at))


@dataclass(frozen=True)
class Retries:
    retried: int
    gave_up: int


async def retry_due(uow_factory: Callable[[], UnitOfWork], now: datetime, retry_days: Sequence[int]) -> Retries:
    """Retry the failed autopay charges whose day has come; give up after the last retry."""
    retried = gave_up = 0
    async with uow_factory() as uow:
        for invoice in await invoices.invoices_with_autopay(uow.session, AutopayStatus.FAILED):
            step = next_step(invoice.autopay.state, retry_days, now)
            if step is Step.RETRY:
                retried += await _retry(uow, invoice, now)
            elif step is Step.GIVE_UP:
                await _give_up(uow, invoice, now)
                gave_up += 1
        await uow.commit()
    return Retries(retried, gave_up)


async def _retry(uow: UnitOfWork, invoice: InvoiceRecord, now: datetime) -> int:
    due = invoice.amount_due or 0
    if not invoice.status.unpaid or due <= 0:
        await invoices.set_autopay(uow.session, invoice.invoice_id, invoice.autopay.ended(AutopayStatus.SETTLED))
        return 0
    if not await request_payment(uow, invoice, due, invoice.autopay.attempts + 1, None, now):
        await invoices.set_autopay(uow.session, invoice.invoice_id, invoice.autopay.ended(AutopayStatus.STOPPED))
        return 0
    return 1


async def _give_up(uow: UnitOfWork, invoice: InvoiceRecord, now: datetime) -> None:
    due = invoice.amount_due or 0
    await invoices.set_autopay(uow.session, invoice.invoice_id, invoice.autopay.ended(AutopayStatus.EXHAUSTED))
    if due <= 0:
        return
    attempts, reason = invoice.autopay.attempts, invoice.autopay.last_reason or "unknown"
    await uow.emit(
        wire.AutopayFailed(
            invoice_id=invoice.invoice_id, amount_clp=due, attempts=attempts, last_reason=reason, gave_up_at=now
        ),
        account_id=invoice.account_id,
    )
    details: dict[str, Any] = {
        "invoice_id": invoice.invoice_id,
        "amount_clp": due,
        "attempts": attempts,
        "last_reason": reason,
    }
    await alerts.raise_alert(
        uow,
        invoice.account_id,
        "autopay_exhausted",
        Severity.WARNING,
        f"The card of account {invoice.account_id} was declined {attempts} times for invoice "
        f"{invoice.invoice_id} ({due} CLP; last: {reason}); the invoice stays pending: contact the customer.",
        details,
        None,
    )
    await views.emit_snapshot(uow, invoice.account_id, None)
