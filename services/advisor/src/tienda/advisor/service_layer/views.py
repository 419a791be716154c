"""What the advisor's read endpoints answer: an account's requests, its timeline with its
follow-ups, an executive's queue. Pydantic models built from the domain objects the repository
reads; FastAPI serves them as the endpoints' response models, so the OpenAPI document names them.

Moments are ISO 8601 in UTC with an explicit offset (``2026-03-16T21:00:00+00:00``)."""

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, PlainSerializer, WithJsonSchema
from sqlalchemy.ext.asyncio import AsyncSession

from tienda.advisor.adapters import repository
from tienda.advisor.domain.corrections import corpus_lines
from tienda.advisor.domain.follow_ups import FollowUp
from tienda.advisor.domain.request import CommercialRequest

Moment = Annotated[
    datetime,
    PlainSerializer(lambda moment: moment.astimezone(UTC).isoformat(), return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class RequesterView(BaseModel):
    user_id: str
    name: str
    email: str


class ContactView(BaseModel):
    channel: str = Field(description="email, phone, whatsapp or video_call.")
    value: str | None
    when: str | None


class RedirectView(BaseModel):
    """Why the request went to the support chat, and what the customer was told."""

    reason: str = Field(
        description="support_kind (the customer chose support), fault_described (the text, by the classifier) "
        "or executive_correction (the executive said it is support)."
    )
    matched: str | None = Field(description="The customer's words quoted back, if any.")
    message: str | None = Field(description="What the customer was shown, in Spanish.")


class TriageView(BaseModel):
    """How the support triage judged the request's text when it arrived."""

    decision: Literal["support", "commercial"]
    confidence: float | None = Field(description="0 to 1: how sure the decision was.")


class RequestView(BaseModel):
    """A commercial request: what the customer asked, its status, executive and due times."""

    request_id: str
    account_id: str
    kind: str
    text: str
    status: str = Field(description="open, in_progress, resolved, closed or redirected.")
    requested_by: RequesterView
    preferred_contact: ContactView
    executive_id: str | None
    submitted_at: Moment
    first_response_due_at: Moment | None
    first_response_at: Moment | None
    redirect: RedirectView | None = Field(description="Set when the request was (or is) redirected to support.")
    triage: TriageView | None = Field(default=None, description="Null for requests judged before it was kept.")


class AccountRequests(BaseModel):
    """An account's commercial requests, the newest first."""

    account_id: str
    requests: list[RequestView]


class TimelineEntryView(BaseModel):
    kind: str = Field(description="e.g. activation_completed, payment_received, request_submitted.")
    summary: str = Field(description="One sentence for the executive.")
    occurred_at: Moment


class FollowUpView(BaseModel):
    """Something for the account's executive to act on: a payment, a training offer, an upgrade."""

    follow_up_id: str
    account_id: str
    kind: str = Field(description="payment, training or upgrade.")
    reference: str = Field(description="What it is about: an invoice, a module SKU, a rejected request.")
    summary: str
    status: str
    executive_id: str | None
    raised_at: Moment
    due_at: Moment


class AccountTimeline(BaseModel):
    """An account's commercial timeline, the latest first by when things happened, and its follow-ups."""

    account_id: str
    timeline: list[TimelineEntryView]
    follow_ups: list[FollowUpView] = Field(description="The newest first.")


class QueuedRequest(RequestView):
    item: Literal["request"] = "request"
    due_at: Moment | None = Field(description="The first response's due time.")
    overdue: bool


class QueuedFollowUp(FollowUpView):
    item: Literal["follow_up"] = "follow_up"
    overdue: bool


class ExecutiveView(BaseModel):
    name: str
    email: str


class ExecutiveQueue(BaseModel):
    """An executive's open requests and follow-ups, the one due first first."""

    executive_id: str
    executive: ExecutiveView | None = Field(description="Null for an executive the advisor has never seen.")
    queue: list[Annotated[QueuedRequest | QueuedFollowUp, Field(discriminator="item")]]


async def account_requests(session: AsyncSession, account_id: str) -> AccountRequests:
    found = await repository.requests_of(session, account_id)
    return AccountRequests(account_id=account_id, requests=[request_view(request) for request in found])


async def account_timeline(session: AsyncSession, account_id: str) -> AccountTimeline:
    entries = await repository.timeline_of(session, account_id)
    follow_ups = await repository.follow_ups_of(session, account_id)
    return AccountTimeline(
        account_id=account_id,
        timeline=[TimelineEntryView(kind=e.kind, summary=e.summary, occurred_at=e.occurred_at) for e in entries],
        follow_ups=[FollowUpView(**_follow_up_fields(follow_up)) for follow_up in follow_ups],
    )


async def executive_queue(session: AsyncSession, executive_id: str, now: datetime) -> ExecutiveQueue:
    """The executive's open requests and follow-ups by due time (then account); overdue as of ``now``."""
    executive = await repository.executive(session, executive_id)
    queue: list[QueuedRequest | QueuedFollowUp] = [
        QueuedRequest(**_request_fields(request), due_at=request.first_response_due_at, overdue=request.is_overdue(now))
        for request in await repository.queued_requests_of(session, executive_id)
    ]
    queue += [
        QueuedFollowUp(**_follow_up_fields(follow_up), overdue=follow_up.is_overdue(now))
        for follow_up in await repository.queued_follow_ups_of(session, executive_id)
    ]
    queue.sort(key=lambda item: (item.due_at is None, item.due_at or datetime.max.replace(tzinfo=UTC), item.account_id))
    known = ExecutiveView(name=executive.name, email=executive.email) if executive else None
    return ExecutiveQueue(executive_id=executive_id, executive=known, queue=queue)


def request_view(request: CommercialRequest) -> RequestView:
    return RequestView(**_request_fields(request))


def _request_fields(request: CommercialRequest) -> dict[str, Any]:
    redirect, by, contact = request.redirect, request.requested_by, request.contact
    return {
        "request_id": request.request_id,
        "account_id": request.account_id,
        "kind": request.kind,
        "text": request.text,
        "status": request.status.value,
        "requested_by": RequesterView(user_id=by.user_id, name=by.name, email=by.email),
        "preferred_contact": ContactView(channel=contact.channel, value=contact.value, when=contact.when),
        "executive_id": request.executive_id,
        "submitted_at": request.submitted_at,
        "first_response_due_at": request.first_response_due_at,
        "first_response_at": request.first_response_at,
        "redirect": RedirectView(reason=redirect.reason, matched=redirect.matched, message=redirect.message)
        if redirect
        else None,
        "triage": _triage(request),
    }


def _triage(request: CommercialRequest) -> TriageView | None:
    judgement = request.judgement
    if judgement is None:
        return None
    return TriageView(decision=judgement.decision.value, confidence=judgement.confidence)


def _follow_up_fields(follow_up: FollowUp) -> dict[str, Any]:
    return {
        "follow_up_id": follow_up.follow_up_id,
        "account_id": follow_up.account_id,
        "kind": follow_up.kind.value,
        "reference": follow_up.reference,
        "summary": follow_up.summary,
        "status": follow_up.status.value,
        "executive_id": follow_up.executive_id,
        "raised_at": follow_up.raised_at,
        "due_at": follow_up.due_at,
    }


async def corrections_for_corpus(
    session: AsyncSession, since: datetime | None = None, details: bool = False
) -> list[dict[str, Any]]:
    """The executives' corrections (from ``since`` on) as lines of the triage corpus."""
    return corpus_lines(await repository.corrections(session, since), details)
