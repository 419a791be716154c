"""Card autopay: the subscribed card, payment requests to the gateway, retries, giving up.

Billing keeps only the gateway's token reference, the brand and the last four digits. A
request whose payload carries a card number is refused before anything is stored: it is
dead-lettered with a reason that does not repeat the number.
"""

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from tienda.billing.adapters import repository
from tienda.billing.adapters.repository import InvoiceRecord
from tienda.billing.domain import ids
from tienda.billing.domain.autopay import AutopayState, Step, next_step
from tienda.billing.service_layer import alerts, views
from tienda.contracts.cards import contains_card_number
from tienda.contracts.envelope import Envelope, EnvelopeHeader, EventPayload
from tienda.contracts.messages import billing as wire
from tienda.contracts.messages.operations import Severity
from tienda.messaging.errors import PermanentFailure
from tienda.messaging.unit_of_work import UnitOfWork

REQUESTED, FAILED, SETTLED, EXHAUSTED, STOPPED = "requested", "failed", "settled", "exhausted", "stopped"


def refuse_card_numbers(payload: EventPayload) -> None:
    """PermanentFailure (a dead letter, nothing stored) if the payload carries a card number."""
    if contains_card_number(payload.model_dump(mode="json")):
        raise PermanentFailure(f"{payload.message_type} refused: {wire.CARD_NUMBER_REFUSAL}")


async def subscribe_card(envelope: Envelope[wire.CardSubscribed], uow: UnitOfWork) -> None:
    """Keep the card's token reference, brand and last four digits; a new card replaces the old."""
    card = envelope.payload
    refuse_card_numbers(card)
    subscription = repository.Card(
        card.token_reference, card.brand, card.last_four, card.subscribed_by.model_dump(), envelope.occurred_at
    )
    await repository.save_card(uow.session, envelope.account_id, subscription)
    await views.emit_snapshot(uow, envelope.account_id, envelope)


async def unsubscribe_card(envelope: Envelope[wire.CardUnsubscribed], uow: UnitOfWork) -> None:
    """Forget the card (only the named one, when a token reference is given)."""
    request = envelope.payload
    refuse_card_numbers(request)
    current = await repository.card(uow.session, envelope.account_id)
    if current is None or request.token_reference not in (None, current.token_reference):
        return
    await repository.remove_card(uow.session, envelope.account_id)
    await views.emit_snapshot(uow, envelope.account_id, envelope)


async def request_payment(
    uow: UnitOfWork,
    account_id: str,
    invoice_id: str,
    amount_clp: int,
    attempt: int,
    cause: EnvelopeHeader | None,
    now: datetime,
) -> bool:
    """Ask the gateway to charge the account's card; False when the account has no card."""
    card = await repository.card(uow.session, account_id)
    if card is None:
        return False
    request_id = ids.payment_request_id(invoice_id, attempt)
    await repository.add_payment_request(
        uow.session,
        {
            "request_id": request_id,
            "account_id": account_id,
            "invoice_id": invoice_id,
            "attempt": attempt,
            "amount_clp": amount_clp,
            "token_reference": card.token_reference,
            "requested_at": now,
        },
    )
    await repository.update_invoice(uow.session, invoice_id, autopay_status=REQUESTED, autopay_attempts=attempt)
    await uow.emit(
        wire.PaymentRequested(
            request_id=request_id,
            invoice_id=invoice_id,
            payment_reference=invoice_id,
            amount_clp=amount_clp,
            token_reference=card.token_reference,
            brand=card.brand,
            last_four=card.last_four,
            attempt=attempt,
            requested_at=now,
        ),
        account_id=account_id,
        cause=cause,
    )
    return True


async def request_first_payment(
    uow: UnitOfWork, account_id: str, invoice_id: str, amount_clp: int, cause: EnvelopeHeader | None, now: datetime
) -> None:
    await request_payment(uow, account_id, invoice_id, amount_clp, 1, cause, now)


async def record_failure(uow: UnitOfWork, invoice: InvoiceRecord, reason: str, failed_at: datetime) -> None:
    """The gateway could not charge the card for an invoice: count it; the scheduler retries."""
    if invoice.autopay_status != REQUESTED or not invoice.status.unpaid:
        return
    await repository.update_invoice(
        uow.session,
        invoice.invoice_id,
        autopay_status=FAILED,
        autopay_failures=invoice.autopay_failures + 1,
        autopay_first_failure_at=invoice.autopay_first_failure_at or failed_at,
        autopay_last_reason=reason,
    )


async def retry_due(uow_factory: Callable[[], UnitOfWork], now: datetime, retry_days: Sequence[int]) -> dict[str, int]:
    """Retry the failed autopay charges whose day has come; give up after the last retry."""
    done = {"retried": 0, "gave_up": 0}
    async with uow_factory() as uow:
        for invoice in await repository.invoices_with_autopay(uow.session, FAILED):
            step = _step(invoice, retry_days, now)
            if step is Step.RETRY:
                done["retried"] += await _retry(uow, invoice, now)
            elif step is Step.GIVE_UP:
                await _give_up(uow, invoice, now)
                done["gave_up"] += 1
        await uow.commit()
    return done


def _step(invoice: InvoiceRecord, retry_days: Sequence[int], now: datetime) -> Step:
    state = AutopayState(invoice.autopay_attempts, invoice.autopay_failures, invoice.autopay_first_failure_at)
    return next_step(state, retry_days, now)


async def _retry(uow: UnitOfWork, invoice: InvoiceRecord, now: datetime) -> int:
    due = invoice.amount_due or 0
    if not invoice.status.unpaid or due <= 0:
        await repository.update_invoice(uow.session, invoice.invoice_id, autopay_status=SETTLED)
        return 0
    attempt = invoice.autopay_attempts + 1
    if not await request_payment(uow, invoice.account_id, invoice.invoice_id, due, attempt, None, now):
        await repository.update_invoice(uow.session, invoice.invoice_id, autopay_status=STOPPED)
        return 0
    return 1


async def _give_up(uow: UnitOfWork, invoice: InvoiceRecord, now: datetime) -> None:
    due = invoice.amount_due or 0
    await repository.update_invoice(uow.session, invoice.invoice_id, autopay_status=EXHAUSTED)
    if due <= 0:
        return
    reason = invoice.autopay_last_reason or "unknown"
    await uow.emit(
        wire.AutopayFailed(
            invoice_id=invoice.invoice_id,
            amount_clp=due,
            attempts=invoice.autopay_attempts,
            last_reason=reason,
            gave_up_at=now,
        ),
        account_id=invoice.account_id,
    )
    details: dict[str, Any] = {
        "invoice_id": invoice.invoice_id,
        "amount_clp": due,
        "attempts": invoice.autopay_attempts,
        "last_reason": reason,
    }
    await alerts.raise_alert(
        uow,
        invoice.account_id,
        "autopay_exhausted",
        Severity.WARNING,
        f"The card of account {invoice.account_id} was declined {invoice.autopay_attempts} times for invoice "
        f"{invoice.invoice_id} ({due} CLP; last: {reason}); the invoice stays pending: contact the customer.",
        details,
        None,
    )
    await views.emit_snapshot(uow, invoice.account_id, None)
