"""The advisor's use cases, one handler per message type it consumes (which type goes to which
handler: ``entrypoints/consumer.py``; the rules they apply: ``domain/``), and the overdue check.

Handlers that assign an executive or set a due time take the configured ``AdvisorPolicy``
(rotation, business calendar, response times); the consumer binds it."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from tienda.advisor import SERVICE
from tienda.advisor.adapters import repository
from tienda.advisor.domain.assignment import Executive, next_in_rotation
from tienda.advisor.domain.corrections import Correction
from tienda.advisor.domain.follow_ups import (
    FollowUp,
    FollowUpKind,
    follow_up_id,
    hits_plan_limits,
    is_module,
    payment_summary,
    training_summary,
    upgrade_summary,
)
from tienda.advisor.domain.lifecycle import Status
from tienda.advisor.domain.policy import AdvisorPolicy
from tienda.advisor.domain.request import CommercialRequest, Contact, Judgement, Redirect, Requester
from tienda.advisor.domain.support_model import Decision
from tienda.advisor.domain.timeline import TimelineEntry
from tienda.advisor.domain.triage import (
    SUPPORT_CHAT,
    RedirectReason,
    corrected_to_support,
    customer_message,
    triage,
)
from tienda.advisor.service_layer import summaries
from tienda.contracts.envelope import Envelope
from tienda.contracts.messages import advisor as wire
from tienda.contracts.messages.activation import ActivationCompleted, ActivationRejected, ChargeScheduled
from tienda.contracts.messages.billing import AutopayFailed, InvoiceIssued, OrderCreated, PaymentRecorded
from tienda.contracts.messages.operations import OperationsAlert, Severity
from tienda.contracts.messages.payment import PaymentFailed, PaymentReceived
from tienda.contracts.messages.store import ReductionRejected, ReductionScheduled
from tienda.contracts.types import Person
from tienda.messaging.errors import UnresolvableReference
from tienda.messaging.unit_of_work import UnitOfWork

# --------------------------------------------------------------------------- commercial requests


async def submit_request(
    envelope: Envelope[wire.CommercialRequestSubmitted], uow: UnitOfWork, policy: AdvisorPolicy
) -> None:
    """Store the request with the triage's judgement; redirect it to support, or assign it to the
    account's executive and announce it."""
    submitted, account_id, at = envelope.payload, envelope.account_id, envelope.occurred_at
    if await repository.request(uow.session, account_id, submitted.request_id):
        return
    verdict = triage(submitted.kind is wire.RequestKind.SUPPORT, submitted.text)
    judgement = Judgement(verdict.decision, _rounded(verdict.confidence))
    if verdict.redirect and verdict.reason is not None:
        redirect = Redirect(verdict.reason.value, verdict.matched, customer_message(verdict, submitted.request_id))
        request = _received(envelope, Status.REDIRECTED, judgement, redirect=redirect)
        await repository.add_request(uow.session, request, str(envelope.event_id))
        await _tell_redirected(uow, envelope, request, redirect)
        summary = summaries.redirected_summary(submitted, verdict.matched, judgement.confidence)
        await _note(uow, envelope, "request_redirected", summary, submitted.request_id)
        uow.mark_rejected()
        return
    executive = await _executive_for(uow, account_id, at, policy.rotation)
    request = _received(
        envelope,
        Status.OPEN,
        judgement,
        executive_id=executive.executive_id if executive else None,
        first_response_due_at=policy.calendar.add_business_hours(at, policy.first_response_business_hours),
    )
    await repository.add_request(uow.session, request, str(envelope.event_id))
    await _announce_request(uow, envelope, request, executive, reassigned_from=None)
    await _note(uow, envelope, "request_submitted", summaries.request_summary(submitted), submitted.request_id)


async def update_request(
    envelope: Envelope[wire.CommercialRequestUpdated], uow: UnitOfWork, policy: AdvisorPolicy
) -> None:
    """A status change from the executive's tools, on a request or a follow-up (the first is the
    response), or the executive's correction of the triage of a request."""
    update, account_id, at = envelope.payload, envelope.account_id, envelope.occurred_at
    wanted = Status(update.status.value)
    request = await repository.request(uow.session, account_id, update.request_id)
    if update.correction is not None:
        await _correct_triage(envelope, uow, policy, request)
        return
    if request is not None:
        applied = request.change_status(wanted, update.executive_id, at)
        if applied:
            await repository.save_request(uow.session, request)
    else:
        follow_up = await repository.follow_up(uow.session, account_id, update.request_id)
        if follow_up is None:
            raise UnresolvableReference(f"account {account_id} has no request or follow-up {update.request_id}")
        applied = follow_up.change_status(wanted, at)
        if applied:
            await repository.save_follow_up(uow.session, follow_up)
    kind = "request_updated" if applied else "update_refused"
    await _note(uow, envelope, kind, summaries.update_summary(update, applied), None)


async def _correct_triage(
    envelope: Envelope[wire.CommercialRequestUpdated],
    uow: UnitOfWork,
    policy: AdvisorPolicy,
    request: CommercialRequest | None,
) -> None:
    """Send a request to support or back to the executive as the executive says, tell whom it concerns,
    and keep the correction for the corpus; a correction the request's status forbids is refused on
    the timeline."""
    update, account_id, at = envelope.payload, envelope.account_id, envelope.occurred_at
    if request is None:
        if await repository.follow_up(uow.session, account_id, update.request_id) is None:
            raise UnresolvableReference(f"account {account_id} has no request {update.request_id} to correct")
        await _note(uow, envelope, "update_refused", summaries.correction_refused_summary(update, "follow-up"), None)
        return
    automatic = request.automatic_decision
    if update.correction is wire.TriageCorrection.REDIRECTED_TO_SUPPORT:
        label = Decision.SUPPORT
        verdict = corrected_to_support(request.text)
        message = customer_message(verdict, request.request_id)
        redirect = Redirect(RedirectReason.EXECUTIVE_CORRECTION.value, verdict.matched, message)
        applied = request.redirect_to_support(redirect, at)
        if applied:
            await repository.save_request(uow.session, request)
            await _tell_redirected(uow, envelope, request, redirect, corrected_by=update.executive_id)
    else:
        label = Decision.COMMERCIAL
        executive = await _executive_for(uow, account_id, at, policy.rotation)
        due = policy.calendar.add_business_hours(at, policy.first_response_business_hours)
        applied = request.reclassify_commercial(executive.executive_id if executive else None, due, at)
        if applied:
            await repository.save_request(uow.session, request)
            await _announce_request(uow, envelope, request, executive, None, corrected_by=update.executive_id)
    if not applied:
        summary = summaries.correction_refused_summary(update, request.status.value.replace("_", " "))
        await _note(uow, envelope, "update_refused", summary, None)
        return
    judgement = request.judgement
    correction = Correction(
        account_id=account_id,
        request_id=request.request_id,
        text=request.text,
        automatic_decision=automatic,
        confidence=judgement.confidence if judgement else None,
        label=label,
        corrected_by=update.executive_id,
        corrected_at=at,
        note=update.note,
    )
    await repository.add_correction(uow.session, correction, str(envelope.event_id))
    await _note(uow, envelope, "triage_corrected", summaries.correction_summary(correction, request), None)


async def assign_executive(envelope: Envelope[wire.ExecutiveAssigned], uow: UnitOfWork) -> None:
    """The CRM named the account's executive: open requests and follow-ups move to them, announced again."""
    account_id, at = envelope.account_id, envelope.occurred_at
    executive = _domain(envelope.payload.executive)
    await repository.save_executive(uow.session, executive)
    previous = await repository.executive_of(uow.session, account_id)
    await repository.assign(uow.session, account_id, executive.executive_id, "crm", at)
    for request in await repository.open_requests_of(uow.session, account_id):
        was = request.executive_id
        if request.assign_to(executive.executive_id, at):
            await repository.save_request(uow.session, request)
            await _announce_request(uow, envelope, request, executive, reassigned_from=was)
    for follow_up in await repository.open_follow_ups_of(uow.session, account_id):
        was = follow_up.executive_id
        if follow_up.assign_to(executive.executive_id, at):
            await repository.save_follow_up(uow.session, follow_up)
            await _announce_follow_up(uow, envelope, follow_up, executive, reassigned_from=was)
    summary = summaries.assigned_summary(envelope.payload, previous.executive_id if previous else None)
    await _note(uow, envelope, "executive_assigned", summary, None)


# --------------------------------------------------------------------------- the timeline and follow-ups


TIMELINE_EVENTS = (
    ActivationCompleted,
    ActivationRejected,
    ChargeScheduled,
    ReductionScheduled,
    ReductionRejected,
    PaymentReceived,
    PaymentFailed,
    OrderCreated,
    InvoiceIssued,
    PaymentRecorded,
    AutopayFailed,
)
"""What the store, billing and the payment gateway tell the advisor: each goes on the account's
timeline (``note_events``)."""


async def note_events(envelopes: Sequence[Envelope[Any]], uow: UnitOfWork, policy: AdvisorPolicy) -> None:
    """A run of the store's, billing's and the gateway's events, in their order: an entry on the
    timeline each, written together in one statement that leaves out the facts told before. An event
    whose rule raises a follow-up (a module activated, a rejection by the plan's limits, autopay
    given up) raises it first, and its entry says so."""
    entries = [await _timeline_entry(envelope, uow, policy) for envelope in envelopes]
    await repository.note(uow.session, entries)


async def _timeline_entry(envelope: Envelope[Any], uow: UnitOfWork, policy: AdvisorPolicy) -> TimelineEntry:
    """What the event adds to the timeline: its kind, its sentence, and the business key it is told once for."""
    event = envelope.payload
    match event:
        case ActivationCompleted():
            offered = await _offer_training(envelope, uow, policy)
            told = "activation_completed", summaries.activation_summary(event) + offered, str(event.activation_id)
        case ActivationRejected():
            raised = await _talk_upgrade(envelope, uow, policy)
            told = "activation_rejected", summaries.rejection_summary(event) + raised, event.request_id
        case AutopayFailed():
            raised = await _call_about_payment(envelope, uow, policy)
            gave_up = f"{event.invoice_id}@{event.gave_up_at.isoformat()}"
            told = "autopay_failed", summaries.autopay_failed_summary(event) + raised, gave_up
        case ChargeScheduled():
            told = "charge_scheduled", summaries.charge_summary(event), str(event.activation_id)
        case ReductionScheduled():
            told = "reduction_scheduled", summaries.reduction_summary(event), str(event.reduction_id)
        case ReductionRejected():
            told = "reduction_rejected", summaries.reduction_rejected_summary(event), event.request_id
        case PaymentReceived():
            told = "payment_received", summaries.payment_received_summary(event), event.payment_id
        case PaymentFailed():
            told = "payment_failed", summaries.payment_failed_summary(event), event.payment_id
        case OrderCreated():
            told = "order_created", summaries.order_summary(event), event.order_id
        case InvoiceIssued():
            told = "invoice_issued", summaries.invoice_summary(event), event.invoice_id
        case PaymentRecorded():
            told = "payment_recorded", summaries.payment_recorded_summary(event), event.payment_id
        case _:
            raise TypeError(f"{envelope.type} is not one of the timeline's events (TIMELINE_EVENTS)")
    return _entry(envelope, *told)


async def _offer_training(envelope: Envelope[ActivationCompleted], uow: UnitOfWork, policy: AdvisorPolicy) -> str:
    """Each new feature module raises an offer of training; what the entry adds about them."""
    event = envelope.payload
    offers = []
    for line in event.lines:
        if is_module(line.sku):
            summary = training_summary(line.description, event.requested_by.name)
            if await _raise_follow_up(uow, envelope, FollowUpKind.TRAINING, line.sku, summary, policy):
                offers.append(line.description)
    return f"; training offered on {', '.join(offers)}" if offers else ""


async def _talk_upgrade(envelope: Envelope[ActivationRejected], uow: UnitOfWork, policy: AdvisorPolicy) -> str:
    """A rejection by the plan's limits opens an upgrade conversation (one open at a time)."""
    event, account_id = envelope.payload, envelope.account_id
    if not hits_plan_limits([reason.code for reason in event.reasons]):
        return ""
    if await repository.has_open_follow_up(uow.session, account_id, FollowUpKind.UPGRADE):
        return ""
    summary = upgrade_summary(event.requested_by.name, [reason.message for reason in event.reasons])
    raised = await _raise_follow_up(uow, envelope, FollowUpKind.UPGRADE, event.request_id, summary, policy)
    return "; upgrade conversation raised" if raised else ""


async def _call_about_payment(envelope: Envelope[AutopayFailed], uow: UnitOfWork, policy: AdvisorPolicy) -> str:
    """Automatic payment gave up after its last retry: a payment follow-up, one per invoice."""
    event = envelope.payload
    summary = payment_summary(event.invoice_id, event.amount_clp, event.attempts, event.last_reason)
    raised = await _raise_follow_up(uow, envelope, FollowUpKind.PAYMENT, event.invoice_id, summary, policy)
    return "; payment follow-up raised" if raised else ""


# --------------------------------------------------------------------------- shared steps


async def _executive_for(
    uow: UnitOfWork, account_id: str, at: datetime, rotation: Sequence[Executive]
) -> Executive | None:
    """The account's executive; an account without one gets the next of the rotation."""
    current = await repository.executive_of(uow.session, account_id)
    if current is not None:
        return current
    chosen = next_in_rotation(rotation, await repository.accounts_per_executive(uow.session))
    if chosen is not None:
        await repository.save_executive(uow.session, chosen)
        await repository.assign(uow.session, account_id, chosen.executive_id, "rotation", at)
    return chosen


async def _raise_follow_up(
    uow: UnitOfWork, envelope: Envelope[Any], kind: FollowUpKind, reference: str, summary: str, policy: AdvisorPolicy
) -> bool:
    """Store and announce a follow-up unless the same one was raised before."""
    account_id, at = envelope.account_id, envelope.occurred_at
    identity = follow_up_id(account_id, kind, reference)
    if await repository.follow_up_exists(uow.session, identity):
        return False
    executive = await _executive_for(uow, account_id, at, policy.rotation)
    follow_up = FollowUp(
        follow_up_id=identity,
        account_id=account_id,
        kind=kind,
        reference=reference,
        summary=summary,
        executive_id=executive.executive_id if executive else None,
        status=Status.OPEN,
        raised_at=at,
        due_at=policy.calendar.add_business_hours(at, policy.follow_up_business_hours),
        updated_at=at,
    )
    await repository.add_follow_up(uow.session, follow_up, str(envelope.event_id))
    await _announce_follow_up(uow, envelope, follow_up, executive, reassigned_from=None)
    return True


async def _announce_request(
    uow: UnitOfWork,
    envelope: Envelope[Any],
    request: CommercialRequest,
    executive: Executive | None,
    reassigned_from: str | None,
    corrected_by: str | None = None,
) -> None:
    if executive is None:
        await _alert_no_executive(uow, envelope, f"request {request.request_id}")
        return
    if request.first_response_due_at is None:
        raise ValueError(f"request {request.request_id} is in the queue without a first-response due time")
    await uow.emit(
        wire.CommercialRequestAssigned(
            request_id=request.request_id,
            requested_by=_person(request),
            kind=wire.RequestKind(request.kind),
            text=request.text,
            preferred_contact=wire.PreferredContact(
                channel=wire.ContactChannel(request.contact.channel),
                value=request.contact.value,
                when=request.contact.when,
            ),
            executive=_wire(executive),
            first_response_due_at=request.first_response_due_at,
            reassigned_from=reassigned_from,
            triage=_wire_triage(request, corrected_by),
        ),
        account_id=envelope.account_id,
        cause=envelope,
    )


async def _tell_redirected(
    uow: UnitOfWork,
    envelope: Envelope[Any],
    request: CommercialRequest,
    redirect: Redirect,
    corrected_by: str | None = None,
) -> None:
    """The customer is sent to the support chat, and told so."""
    await uow.emit(
        wire.CommercialRequestRedirected(
            request_id=request.request_id,
            requested_by=_person(request),
            kind=wire.RequestKind(request.kind),
            redirected_to=SUPPORT_CHAT,
            reason=redirect.reason,
            matched=redirect.matched,
            message=redirect.message,
            triage=_wire_triage(request, corrected_by),
        ),
        account_id=envelope.account_id,
        cause=envelope,
    )


async def _announce_follow_up(
    uow: UnitOfWork,
    envelope: Envelope[Any],
    follow_up: FollowUp,
    executive: Executive | None,
    reassigned_from: str | None,
) -> None:
    if executive is None:
        await _alert_no_executive(uow, envelope, f"{follow_up.kind.value} follow-up {follow_up.follow_up_id}")
        return
    await uow.emit(
        wire.FollowUpRaised(
            follow_up_id=follow_up.follow_up_id,
            kind=wire.FollowUpKind(follow_up.kind.value),
            reference=follow_up.reference,
            summary=follow_up.summary,
            executive=_wire(executive),
            due_at=follow_up.due_at,
            reassigned_from=reassigned_from,
        ),
        account_id=envelope.account_id,
        cause=envelope,
    )


async def _alert_no_executive(uow: UnitOfWork, envelope: Envelope[Any], what: str) -> None:
    """Nobody to give it to: kept, waiting for the CRM to assign the account, and operations told."""
    await uow.emit(
        OperationsAlert(
            kind="executive_missing",
            severity=Severity.WARNING,
            service=SERVICE,
            summary=f"Account {envelope.account_id} has {what} but no executive, and nobody is in the rotation: "
            "set TIENDA_ADVISOR_EXECUTIVES or assign the account's executive in the CRM.",
            details={"account_id": envelope.account_id, "item": what},
        ),
        account_id=envelope.account_id,
        cause=envelope,
    )


async def raise_overdue_alerts(uow: UnitOfWork, now: datetime, policy: AdvisorPolicy) -> int:
    """Alert operations once about each open request whose first response is overdue; how many were raised."""
    raised = 0
    for request in await repository.overdue_requests(uow.session, now):
        if not await repository.claim_overdue_alert(uow.session, request.account_id, request.request_id, now):
            continue
        due = request.first_response_due_at
        local_due = due.astimezone(policy.calendar.zone) if due else None
        await uow.emit(
            OperationsAlert(
                kind="request_overdue",
                severity=Severity.WARNING,
                service=SERVICE,
                summary=f"Commercial request {request.request_id} of account {request.account_id} "
                f"({request.kind.replace('_', ' ')}) got no first response by "
                f"{local_due:%Y-%m-%d %H:%M} Santiago time: remind {request.executive_id or 'the team'} "
                "or reassign the account.",
                details={
                    "account_id": request.account_id,
                    "request_id": request.request_id,
                    "executive_id": request.executive_id,
                    "first_response_due_at": due.isoformat() if due else None,
                    "submitted_at": request.submitted_at.isoformat(),
                },
            ),
            account_id=request.account_id,
        )
        raised += 1
    return raised


def _received(
    envelope: Envelope[wire.CommercialRequestSubmitted],
    status: Status,
    judgement: Judgement,
    *,
    executive_id: str | None = None,
    first_response_due_at: datetime | None = None,
    redirect: Redirect | None = None,
) -> CommercialRequest:
    """The submitted request as the domain keeps it."""
    submitted, contact = envelope.payload, envelope.payload.preferred_contact
    person = submitted.requested_by
    return CommercialRequest(
        account_id=envelope.account_id,
        request_id=submitted.request_id,
        kind=submitted.kind.value,
        text=submitted.text,
        requested_by=Requester(person.user_id, person.name, person.email),
        contact=Contact(contact.channel.value, contact.value, contact.when),
        submitted_at=envelope.occurred_at,
        status=status,
        updated_at=envelope.occurred_at,
        executive_id=executive_id,
        first_response_due_at=first_response_due_at,
        redirect=redirect,
        judgement=judgement,
    )


def _rounded(confidence: float | None) -> float | None:
    """Four decimals say how sure the triage was; more would only look precise."""
    return None if confidence is None else round(confidence, 4)


def _wire_triage(request: CommercialRequest, corrected_by: str | None) -> wire.Triage | None:
    judgement = request.judgement
    if judgement is None:
        return None
    decision = wire.TriageDecision(judgement.decision.value)
    return wire.Triage(decision=decision, confidence=judgement.confidence, corrected_by=corrected_by)


def _person(request: CommercialRequest) -> Person:
    by = request.requested_by
    return Person(user_id=by.user_id, name=by.name, email=by.email)


async def _note(uow: UnitOfWork, envelope: Envelope[Any], kind: str, summary: str, reference: str | None) -> None:
    await repository.note(uow.session, [_entry(envelope, kind, summary, reference)])


def _entry(envelope: Envelope[Any], kind: str, summary: str, reference: str | None) -> TimelineEntry:
    return TimelineEntry(envelope.account_id, str(envelope.event_id), kind, summary, envelope.occurred_at, reference)


def _domain(executive: wire.Executive) -> Executive:
    return Executive(executive.executive_id, executive.name, str(executive.email))


def _wire(executive: Executive) -> wire.Executive:
    return wire.Executive(executive_id=executive.executive_id, name=executive.name, email=executive.email)
