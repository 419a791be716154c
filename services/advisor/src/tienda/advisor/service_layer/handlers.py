"""The advisor's use cases, one handler per message type it consumes (which type goes to which
handler: ``entrypoints/consumer.py``; the rules they apply: ``domain/``), and the overdue check.

Handlers that assign an executive or set a due time take the configured ``AdvisorPolicy``
(rotation, business calendar, response times); the consumer binds it."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping

from tienda.advisor import SERVICE
from tienda.advisor.adapters import repository
from tienda.advisor.adapters.repository import TimelineEntry, utc
from tienda.advisor.domain.assignment import Executive, next_in_rotation
from tienda.advisor.domain.follow_ups import (
    FollowUpKind,
    follow_up_id,
    hits_plan_limits,
    is_module,
    payment_summary,
    training_summary,
    upgrade_summary,
)
from tienda.advisor.domain.lifecycle import Status, may_become
from tienda.advisor.domain.policy import AdvisorPolicy
from tienda.advisor.domain.triage import SUPPORT_CHAT, customer_message, judge
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
    """Store the request; redirect it to support, or assign it to the account's executive and announce it."""
    request, account_id, at = envelope.payload, envelope.account_id, envelope.occurred_at
    if await repository.request(uow.session, account_id, request.request_id):
        return
    verdict = judge(request.kind is wire.RequestKind.SUPPORT, request.text)
    stored = _request_columns(envelope)
    if verdict.redirect and verdict.reason is not None:
        message = customer_message(verdict, request.request_id)
        await repository.add_request(
            uow.session,
            **stored,
            status=Status.REDIRECTED.value,
            redirect_reason=verdict.reason.value,
            redirect_matched=verdict.matched,
            customer_message=message,
        )
        await uow.emit(
            wire.CommercialRequestRedirected(
                request_id=request.request_id,
                requested_by=request.requested_by,
                kind=request.kind,
                redirected_to=SUPPORT_CHAT,
                reason=verdict.reason.value,
                matched=verdict.matched,
                message=message,
            ),
            account_id=account_id,
            cause=envelope,
        )
        summary = summaries.redirected_summary(request, verdict.matched)
        await _note(uow, envelope, "request_redirected", summary, request.request_id)
        uow.mark_rejected()
        return
    executive = await _executive_for(uow, account_id, at, policy.rotation)
    due = policy.calendar.add_business_hours(at, policy.first_response_business_hours)
    await repository.add_request(
        uow.session,
        **stored,
        status=Status.OPEN.value,
        executive_id=executive.executive_id if executive else None,
        first_response_due_at=due,
    )
    row = await repository.request_row(uow.session, account_id, request.request_id)
    await _announce_request(uow, envelope, row, executive, reassigned_from=None)
    await _note(uow, envelope, "request_submitted", summaries.request_summary(request), request.request_id)


async def update_request(envelope: Envelope[wire.CommercialRequestUpdated], uow: UnitOfWork) -> None:
    """A status change from the executive's tools, on a request or a follow-up; the first is the response."""
    update, account_id, at = envelope.payload, envelope.account_id, envelope.occurred_at
    wanted = Status(update.status.value)
    stored = await repository.request(uow.session, account_id, update.request_id)
    if stored is not None:
        applied = may_become(stored.status, wanted)
        if applied:
            await repository.change_request(
                uow.session,
                account_id,
                update.request_id,
                status=wanted.value,
                updated_at=at,
                first_response_at=stored.first_response_at or at,
                executive_id=stored.executive_id or update.executive_id,
            )
    else:
        follow_up = await repository.follow_up(uow.session, account_id, update.request_id)
        if follow_up is None:
            raise UnresolvableReference(f"account {account_id} has no request or follow-up {update.request_id}")
        applied = may_become(Status(follow_up["status"]), wanted)
        if applied:
            await repository.change_follow_up(uow.session, update.request_id, status=wanted.value, updated_at=at)
    kind = "request_updated" if applied else "update_refused"
    await _note(uow, envelope, kind, summaries.update_summary(update, applied), None)


async def assign_executive(envelope: Envelope[wire.ExecutiveAssigned], uow: UnitOfWork) -> None:
    """The CRM named the account's executive: open requests and follow-ups move to them, announced again."""
    account_id, at = envelope.account_id, envelope.occurred_at
    executive = _domain(envelope.payload.executive)
    await repository.save_executive(uow.session, executive)
    previous = await repository.executive_of(uow.session, account_id)
    await repository.assign(uow.session, account_id, executive.executive_id, "crm", at)
    for row in await repository.open_requests_of(uow.session, account_id):
        if row["executive_id"] != executive.executive_id:
            await repository.change_request(
                uow.session, account_id, row["request_id"], executive_id=executive.executive_id, updated_at=at
            )
            await _announce_request(uow, envelope, row, executive, reassigned_from=row["executive_id"])
    for row in await repository.open_follow_ups_of(uow.session, account_id):
        if row["executive_id"] != executive.executive_id:
            await repository.change_follow_up(
                uow.session, row["follow_up_id"], executive_id=executive.executive_id, updated_at=at
            )
            await _announce_follow_up(uow, envelope, row, executive, reassigned_from=row["executive_id"])
    summary = summaries.assigned_summary(envelope.payload, previous.executive_id if previous else None)
    await _note(uow, envelope, "executive_assigned", summary, None)


# --------------------------------------------------------------------------- the timeline and follow-ups


async def note_activation(envelope: Envelope[ActivationCompleted], uow: UnitOfWork, policy: AdvisorPolicy) -> None:
    """On the timeline; each new feature module raises an offer of training."""
    event = envelope.payload
    offers = []
    for line in event.lines:
        if is_module(line.sku):
            summary = training_summary(line.description, event.requested_by.name)
            if await _raise_follow_up(uow, envelope, FollowUpKind.TRAINING, line.sku, summary, policy):
                offers.append(line.description)
    offered = f"; training offered on {', '.join(offers)}" if offers else ""
    summary = summaries.activation_summary(event) + offered
    await _note(uow, envelope, "activation_completed", summary, str(event.activation_id))


async def note_rejected_activation(
    envelope: Envelope[ActivationRejected], uow: UnitOfWork, policy: AdvisorPolicy
) -> None:
    """On the timeline; a rejection by the plan's limits opens an upgrade conversation (one at a time)."""
    event, account_id = envelope.payload, envelope.account_id
    raised = ""
    if hits_plan_limits([reason.code for reason in event.reasons]) and not await repository.has_open_follow_up(
        uow.session, account_id, FollowUpKind.UPGRADE.value
    ):
        reasons = [reason.message for reason in event.reasons]
        summary = upgrade_summary(event.requested_by.name, reasons)
        if await _raise_follow_up(uow, envelope, FollowUpKind.UPGRADE, event.request_id, summary, policy):
            raised = "; upgrade conversation raised"
    summary = summaries.rejection_summary(event) + raised
    await _note(uow, envelope, "activation_rejected", summary, event.request_id)


async def note_failed_autopay(envelope: Envelope[AutopayFailed], uow: UnitOfWork, policy: AdvisorPolicy) -> None:
    """Automatic payment gave up after its last retry: a payment follow-up, one per invoice."""
    event = envelope.payload
    summary = payment_summary(event.invoice_id, event.amount_clp, event.attempts, event.last_reason)
    raised = await _raise_follow_up(uow, envelope, FollowUpKind.PAYMENT, event.invoice_id, summary, policy)
    entry = summaries.autopay_failed_summary(event) + ("; payment follow-up raised" if raised else "")
    await _note(uow, envelope, "autopay_failed", entry, f"{event.invoice_id}@{event.gave_up_at.isoformat()}")


async def note_charge(envelope: Envelope[ChargeScheduled], uow: UnitOfWork) -> None:
    event = envelope.payload
    await _note(uow, envelope, "charge_scheduled", summaries.charge_summary(event), str(event.activation_id))


async def note_payment(envelope: Envelope[PaymentReceived], uow: UnitOfWork) -> None:
    event = envelope.payload
    await _note(uow, envelope, "payment_received", summaries.payment_received_summary(event), event.payment_id)


async def note_payment_failure(envelope: Envelope[PaymentFailed], uow: UnitOfWork) -> None:
    event = envelope.payload
    await _note(uow, envelope, "payment_failed", summaries.payment_failed_summary(event), event.payment_id)


async def note_reduction(envelope: Envelope[ReductionScheduled], uow: UnitOfWork) -> None:
    event = envelope.payload
    summary = summaries.reduction_summary(event)
    await _note(uow, envelope, "reduction_scheduled", summary, str(event.reduction_id))


async def note_rejected_reduction(envelope: Envelope[ReductionRejected], uow: UnitOfWork) -> None:
    event = envelope.payload
    summary = summaries.reduction_rejected_summary(event)
    await _note(uow, envelope, "reduction_rejected", summary, event.request_id)


async def note_order(envelope: Envelope[OrderCreated], uow: UnitOfWork) -> None:
    event = envelope.payload
    await _note(uow, envelope, "order_created", summaries.order_summary(event), event.order_id)


async def note_invoice(envelope: Envelope[InvoiceIssued], uow: UnitOfWork) -> None:
    event = envelope.payload
    await _note(uow, envelope, "invoice_issued", summaries.invoice_summary(event), event.invoice_id)


async def note_recorded_payment(envelope: Envelope[PaymentRecorded], uow: UnitOfWork) -> None:
    event = envelope.payload
    await _note(uow, envelope, "payment_recorded", summaries.payment_recorded_summary(event), event.payment_id)


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
    await repository.add_follow_up(
        uow.session,
        follow_up_id=identity,
        account_id=account_id,
        kind=kind.value,
        reference=reference,
        summary=summary,
        executive_id=executive.executive_id if executive else None,
        status=Status.OPEN.value,
        raised_at=at,
        due_at=policy.calendar.add_business_hours(at, policy.follow_up_business_hours),
        updated_at=at,
        event_id=str(envelope.event_id),
    )
    row = await repository.follow_up(uow.session, account_id, identity)
    if row is not None:
        await _announce_follow_up(uow, envelope, row, executive, reassigned_from=None)
    return True


async def _announce_request(
    uow: UnitOfWork,
    envelope: Envelope[Any],
    row: RowMapping,
    executive: Executive | None,
    reassigned_from: str | None,
) -> None:
    if executive is None:
        await _alert_no_executive(uow, envelope, f"request {row['request_id']}")
        return
    await uow.emit(
        wire.CommercialRequestAssigned(
            request_id=row["request_id"],
            requested_by=Person(
                user_id=row["requested_by_user_id"],
                name=row["requested_by_name"],
                email=row["requested_by_email"],
            ),
            kind=wire.RequestKind(row["kind"]),
            text=row["text"],
            preferred_contact=wire.PreferredContact(
                channel=wire.ContactChannel(row["contact_channel"]),
                value=row["contact_value"],
                when=row["contact_when"],
            ),
            executive=_wire(executive),
            first_response_due_at=utc(row["first_response_due_at"]),
            reassigned_from=reassigned_from,
        ),
        account_id=envelope.account_id,
        cause=envelope,
    )


async def _announce_follow_up(
    uow: UnitOfWork, envelope: Envelope[Any], row: RowMapping, executive: Executive | None, reassigned_from: str | None
) -> None:
    if executive is None:
        await _alert_no_executive(uow, envelope, f"{row['kind']} follow-up {row['follow_up_id']}")
        return
    await uow.emit(
        wire.FollowUpRaised(
            follow_up_id=row["follow_up_id"],
            kind=wire.FollowUpKind(row["kind"]),
            reference=row["reference"],
            summary=row["summary"],
            executive=_wire(executive),
            due_at=utc(row["due_at"]),
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
    for row in await repository.overdue_requests(uow.session, now):
        if not await repository.claim_overdue_alert(uow.session, row["account_id"], row["request_id"], now):
            continue
        due = utc(row["first_response_due_at"])
        local_due = due.astimezone(policy.calendar.zone) if due else None
        await uow.emit(
            OperationsAlert(
                kind="request_overdue",
                severity=Severity.WARNING,
                service=SERVICE,
                summary=f"Commercial request {row['request_id']} of account {row['account_id']} "
                f"({row['kind'].replace('_', ' ')}) got no first response by "
                f"{local_due:%Y-%m-%d %H:%M} Santiago time: remind {row['executive_id'] or 'the team'} "
                "or reassign the account.",
                details={
                    "account_id": row["account_id"],
                    "request_id": row["request_id"],
                    "executive_id": row["executive_id"],
                    "first_response_due_at": due.isoformat() if due else None,
                    "submitted_at": utc(row["submitted_at"]).isoformat(),  # type: ignore[union-attr]
                },
            ),
            account_id=row["account_id"],
        )
        raised += 1
    return raised


def _request_columns(envelope: Envelope[wire.CommercialRequestSubmitted]) -> dict[str, Any]:
    request, contact = envelope.payload, envelope.payload.preferred_contact
    return {
        "account_id": envelope.account_id,
        "request_id": request.request_id,
        "kind": request.kind.value,
        "text": request.text,
        "requested_by_user_id": request.requested_by.user_id,
        "requested_by_name": request.requested_by.name,
        "requested_by_email": request.requested_by.email,
        "contact_channel": contact.channel.value,
        "contact_value": contact.value,
        "contact_when": contact.when,
        "submitted_at": envelope.occurred_at,
        "updated_at": envelope.occurred_at,
        "event_id": str(envelope.event_id),
    }


async def _note(uow: UnitOfWork, envelope: Envelope[Any], kind: str, summary: str, reference: str | None) -> None:
    await repository.note(
        uow.session,
        TimelineEntry(envelope.account_id, str(envelope.event_id), kind, summary, envelope.occurred_at, reference),
    )


def _domain(executive: wire.Executive) -> Executive:
    return Executive(executive.executive_id, executive.name, str(executive.email))


def _wire(executive: Executive) -> wire.Executive:
    return wire.Executive(executive_id=executive.executive_id, name=executive.name, email=executive.email)
