"""What an executive reads on an account's commercial timeline, one sentence per event."""

from tienda.advisor.domain.corrections import Correction
from tienda.advisor.domain.follow_ups import clp
from tienda.advisor.domain.request import CommercialRequest
from tienda.advisor.domain.support_model import Decision
from tienda.contracts.messages.activation import ActivationCompleted, ActivationRejected, ChargeScheduled
from tienda.contracts.messages.advisor import (
    CommercialRequestSubmitted,
    CommercialRequestUpdated,
    ExecutiveAssigned,
)
from tienda.contracts.messages.billing import AutopayFailed, InvoiceIssued, OrderCreated, PaymentRecorded
from tienda.contracts.messages.payment import PaymentFailed, PaymentReceived
from tienda.contracts.messages.store import ReductionRejected, ReductionScheduled


def activation_summary(event: ActivationCompleted) -> str:
    items = ", ".join(f"{line.quantity} × {line.description}" for line in event.lines)
    return f"{event.requested_by.name} activated {items} ({event.payment_mode.value.replace('_', ' ')})"


def rejection_summary(event: ActivationRejected) -> str:
    reasons = "; ".join(reason.message for reason in event.reasons)
    return f"{event.requested_by.name} could not activate a cart: {reasons}"


def charge_summary(event: ChargeScheduled) -> str:
    items = ", ".join(f"{line.quantity} × {line.description}" for line in event.lines)
    mode = event.payment_mode.value.replace("_", " ")
    return f"Charge scheduled from {event.effective_date.isoformat()}: {items} ({mode})"


def payment_received_summary(event: PaymentReceived) -> str:
    return f"{event.paid_by} paid {clp(event.amount_clp)} for {event.reference} by {event.method}"


def payment_failed_summary(event: PaymentFailed) -> str:
    return f"A payment of {clp(event.amount_clp)} for {event.reference} failed: {event.reason}"


def autopay_failed_summary(event: AutopayFailed) -> str:
    return (
        f"Automatic payment of invoice {event.invoice_id} ({clp(event.amount_clp)}) gave up after "
        f"{event.attempts} attempt(s): {event.last_reason}"
    )


def reduction_summary(event: ReductionScheduled) -> str:
    items = ", ".join(f"{line.quantity} × {line.description}" for line in event.lines)
    return f"{event.requested_by.name} scheduled the removal of {items} at the next renewal"


def reduction_rejected_summary(event: ReductionRejected) -> str:
    reasons = "; ".join(reason.message for reason in event.reasons)
    return f"{event.requested_by.name} could not reduce the plan: {reasons}"


def order_summary(event: OrderCreated) -> str:
    return (
        f"{event.ordered_by.name} placed online order {event.order_id} for {clp(event.total_clp)}, "
        f"waiting for payment (reference {event.payment_reference})"
    )


def invoice_summary(event: InvoiceIssued) -> str:
    carried = f"; carries order(s) left unpaid: {', '.join(event.carried_orders)}" if event.carried_orders else ""
    return f"Invoice {event.invoice_id} issued ({event.kind.value}): {clp(event.amount_due_clp)} due{carried}"


def payment_recorded_summary(event: PaymentRecorded) -> str:
    balance = f", {clp(event.balance_due_clp)} still due" if event.balance_due_clp else ""
    return (
        f"Payment of {clp(event.amount_clp)} by {event.paid_by} applied to {event.document_kind.value} "
        f"{event.document_id}{balance}"
    )


def request_summary(event: CommercialRequestSubmitted) -> str:
    return f"{event.requested_by.name} asked for {event.kind.value.replace('_', ' ')}: {_short(event.text)}"


def redirected_summary(event: CommercialRequestSubmitted, matched: str | None, confidence: float | None) -> str:
    why = f'the text describes a fault ("{matched}")' if matched else "it was sent as support"
    sure = f", confidence {confidence:.2f}" if matched and confidence is not None else ""
    return f"{event.requested_by.name}'s request {event.request_id} was redirected to the support chat: {why}{sure}"


def correction_summary(correction: Correction, request: CommercialRequest) -> str:
    sure = f", confidence {correction.confidence:.2f}" if correction.confidence is not None else ""
    triaged = f"the triage had decided {correction.automatic_decision.value}{sure}"
    if correction.label is Decision.SUPPORT:
        return f"{correction.corrected_by} sent {correction.request_id} to the support chat ({triaged})"
    to = f"; assigned to {request.executive_id}" if request.executive_id else "; nobody to assign it to"
    return f"{correction.corrected_by} reclassified {correction.request_id} as commercial ({triaged}){to}"


def correction_refused_summary(event: CommercialRequestUpdated, what: str) -> str:
    correction = event.correction.value if event.correction else "corrected"
    return f"{event.executive_id} could not set {event.request_id} ({what}) to {correction}"


def update_summary(event: CommercialRequestUpdated, applied: bool) -> str:
    note = f": {_short(event.note)}" if event.note else ""
    if not applied:
        return f"{event.executive_id} could not set {event.request_id} to {event.status.value}{note}"
    return f"{event.executive_id} set {event.request_id} to {event.status.value.replace('_', ' ')}{note}"


def assigned_summary(event: ExecutiveAssigned, previous: str | None) -> str:
    executive = event.executive
    moved = f" (was {previous})" if previous and previous != executive.executive_id else ""
    return f"{executive.name} ({executive.executive_id}) is the account's executive{moved}"


def _short(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
