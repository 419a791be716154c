"""The advisor's tables as domain objects, inside a unit of work: rows in, ``CommercialRequest``,
``FollowUp``, ``TimelineEntry`` and ``Executive`` out; a changed object is saved whole (its
changeable columns), never as loose column values."""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, Select, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from tienda.advisor.adapters.tables import assignments, executives, follow_ups, requests, timeline, triage_corrections
from tienda.advisor.domain.assignment import Executive
from tienda.advisor.domain.corrections import Correction
from tienda.advisor.domain.follow_ups import FollowUp, FollowUpKind
from tienda.advisor.domain.lifecycle import IN_QUEUE, Status
from tienda.advisor.domain.request import CommercialRequest, Contact, Judgement, Redirect, Requester
from tienda.advisor.domain.support_model import Decision
from tienda.advisor.domain.timeline import TimelineEntry, told_once

QUEUED = [status.value for status in IN_QUEUE]

# --- executives and assignments


async def save_executive(session: AsyncSession, executive: Executive) -> None:
    """Remember an executive's name and e-mail (the latest wins)."""
    values = {"name": executive.name, "email": executive.email}
    changed = await session.execute(
        update(executives).where(executives.c.executive_id == executive.executive_id).values(**values)
    )
    if not changed.rowcount:  # type: ignore[attr-defined]
        await session.execute(insert(executives).values(executive_id=executive.executive_id, **values))


async def executive(session: AsyncSession, executive_id: str) -> Executive | None:
    row = (await session.execute(select(executives).where(executives.c.executive_id == executive_id))).first()
    return Executive(row.executive_id, row.name, row.email) if row else None


async def executive_of(session: AsyncSession, account_id: str) -> Executive | None:
    """The account's executive, if it has one."""
    row = (
        await session.execute(
            select(executives)
            .join(assignments, assignments.c.executive_id == executives.c.executive_id)
            .where(assignments.c.account_id == account_id)
        )
    ).first()
    return Executive(row.executive_id, row.name, row.email) if row else None


async def accounts_per_executive(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(
        select(assignments.c.executive_id, func.count().label("accounts")).group_by(assignments.c.executive_id)
    )
    return {row.executive_id: row.accounts for row in rows}


async def assign(session: AsyncSession, account_id: str, executive_id: str, source: str, at: datetime) -> None:
    values = {"executive_id": executive_id, "source": source, "assigned_at": at}
    changed = await session.execute(update(assignments).where(assignments.c.account_id == account_id).values(**values))
    if not changed.rowcount:  # type: ignore[attr-defined]
        await session.execute(insert(assignments).values(account_id=account_id, **values))


# --- commercial requests


async def add_request(session: AsyncSession, request: CommercialRequest, event_id: str) -> None:
    """Store a new request; ``event_id`` is the submission's."""
    identity = {"account_id": request.account_id, "request_id": request.request_id}
    await session.execute(
        insert(requests).values(
            **identity,
            **_request_facts(request),
            **_request_state(request),
            event_id=event_id,
        )
    )


async def save_request(session: AsyncSession, request: CommercialRequest) -> None:
    """Write what may change of a stored request: status, executive, due times, redirection."""
    await session.execute(
        update(requests)
        .where(requests.c.account_id == request.account_id, requests.c.request_id == request.request_id)
        .values(**_request_state(request))
    )


async def request(session: AsyncSession, account_id: str, request_id: str) -> CommercialRequest | None:
    found = await _requests(
        session, select(requests).where(requests.c.account_id == account_id, requests.c.request_id == request_id)
    )
    return found[0] if found else None


async def requests_of(session: AsyncSession, account_id: str) -> list[CommercialRequest]:
    """The account's requests, the newest first."""
    query = select(requests).where(requests.c.account_id == account_id).order_by(requests.c.submitted_at.desc())
    return await _requests(session, query)


async def open_requests_of(session: AsyncSession, account_id: str) -> list[CommercialRequest]:
    """The account's requests still in the executive's hands (or waiting for one), the oldest first."""
    query = (
        select(requests)
        .where(requests.c.account_id == account_id, requests.c.status.in_(QUEUED))
        .order_by(requests.c.submitted_at)
    )
    return await _requests(session, query)


async def queued_requests_of(session: AsyncSession, executive_id: str) -> list[CommercialRequest]:
    """An executive's requests that are open or in progress."""
    query = select(requests).where(requests.c.executive_id == executive_id, requests.c.status.in_(QUEUED))
    return await _requests(session, query)


async def overdue_requests(session: AsyncSession, now: datetime) -> list[CommercialRequest]:
    """Open requests past their first-response time that no alert has been raised for yet."""
    query = (
        select(requests)
        .where(
            requests.c.status == Status.OPEN.value,
            requests.c.first_response_at.is_(None),
            requests.c.first_response_due_at <= now,
            requests.c.overdue_alerted_at.is_(None),
        )
        .order_by(requests.c.first_response_due_at)
    )
    return await _requests(session, query)


async def claim_overdue_alert(session: AsyncSession, account_id: str, request_id: str, now: datetime) -> bool:
    """Mark the request as alerted; False when another instance (or a response) got there first."""
    claimed = await session.execute(
        update(requests)
        .where(
            requests.c.account_id == account_id,
            requests.c.request_id == request_id,
            requests.c.overdue_alerted_at.is_(None),
            requests.c.first_response_at.is_(None),
        )
        .values(overdue_alerted_at=now)
    )
    return bool(claimed.rowcount)  # type: ignore[attr-defined]


async def _requests(session: AsyncSession, query: Select[Any]) -> list[CommercialRequest]:
    return [_request(row) for row in await session.execute(query)]


def _request(row: Row[Any]) -> CommercialRequest:
    redirect = Redirect(row.redirect_reason, row.redirect_matched, row.customer_message or "")
    judgement = Judgement(Decision(row.triage_decision), row.triage_confidence) if row.triage_decision else None
    return CommercialRequest(
        account_id=row.account_id,
        request_id=row.request_id,
        kind=row.kind,
        text=row.text,
        requested_by=Requester(row.requested_by_user_id, row.requested_by_name, row.requested_by_email),
        contact=Contact(row.contact_channel, row.contact_value, row.contact_when),
        submitted_at=_utc(row.submitted_at),
        status=Status(row.status),
        updated_at=_utc(row.updated_at),
        executive_id=row.executive_id,
        first_response_due_at=_utc_or_none(row.first_response_due_at),
        first_response_at=_utc_or_none(row.first_response_at),
        overdue_alerted_at=_utc_or_none(row.overdue_alerted_at),
        redirect=redirect if row.redirect_reason else None,
        judgement=judgement,
    )


def _request_facts(request: CommercialRequest) -> dict[str, Any]:
    """What the customer sent: written once."""
    return {
        "kind": request.kind,
        "text": request.text,
        "requested_by_user_id": request.requested_by.user_id,
        "requested_by_name": request.requested_by.name,
        "requested_by_email": request.requested_by.email,
        "contact_channel": request.contact.channel,
        "contact_value": request.contact.value,
        "contact_when": request.contact.when,
        "submitted_at": request.submitted_at,
    }


def _request_state(request: CommercialRequest) -> dict[str, Any]:
    """What changes over the request's life (the judgement: only from none, at a first correction)."""
    redirect, judgement = request.redirect, request.judgement
    return {
        "triage_decision": judgement.decision.value if judgement else None,
        "triage_confidence": judgement.confidence if judgement else None,
        "status": request.status.value,
        "executive_id": request.executive_id,
        "first_response_due_at": request.first_response_due_at,
        "first_response_at": request.first_response_at,
        "overdue_alerted_at": request.overdue_alerted_at,
        "redirect_reason": redirect.reason if redirect else None,
        "redirect_matched": redirect.matched if redirect else None,
        "customer_message": redirect.message if redirect else None,
        "updated_at": request.updated_at,
    }


# --- follow-ups


async def follow_up_exists(session: AsyncSession, follow_up_id: str) -> bool:
    found = await session.scalar(select(follow_ups.c.follow_up_id).where(follow_ups.c.follow_up_id == follow_up_id))
    return found is not None


async def has_open_follow_up(session: AsyncSession, account_id: str, kind: FollowUpKind) -> bool:
    found = await session.scalar(
        select(func.count()).where(
            follow_ups.c.account_id == account_id,
            follow_ups.c.kind == kind.value,
            follow_ups.c.status.in_(QUEUED),
        )
    )
    return bool(found)


async def add_follow_up(session: AsyncSession, follow_up: FollowUp, event_id: str) -> None:
    """Store a new follow-up; ``event_id`` is the event that raised it."""
    await session.execute(
        insert(follow_ups).values(
            follow_up_id=follow_up.follow_up_id,
            account_id=follow_up.account_id,
            kind=follow_up.kind.value,
            reference=follow_up.reference,
            summary=follow_up.summary,
            raised_at=follow_up.raised_at,
            due_at=follow_up.due_at,
            event_id=event_id,
            **_follow_up_state(follow_up),
        )
    )


async def save_follow_up(session: AsyncSession, follow_up: FollowUp) -> None:
    """Write what may change of a stored follow-up: status and executive."""
    await session.execute(
        update(follow_ups)
        .where(follow_ups.c.follow_up_id == follow_up.follow_up_id)
        .values(**_follow_up_state(follow_up))
    )


async def follow_up(session: AsyncSession, account_id: str, follow_up_id: str) -> FollowUp | None:
    query = select(follow_ups).where(follow_ups.c.account_id == account_id, follow_ups.c.follow_up_id == follow_up_id)
    found = await _follow_ups(session, query)
    return found[0] if found else None


async def open_follow_ups_of(session: AsyncSession, account_id: str) -> list[FollowUp]:
    """The account's follow-ups still open or in progress, the oldest first."""
    query = (
        select(follow_ups)
        .where(follow_ups.c.account_id == account_id, follow_ups.c.status.in_(QUEUED))
        .order_by(follow_ups.c.raised_at)
    )
    return await _follow_ups(session, query)


async def follow_ups_of(session: AsyncSession, account_id: str) -> list[FollowUp]:
    """Every follow-up of the account, the newest first."""
    query = select(follow_ups).where(follow_ups.c.account_id == account_id).order_by(follow_ups.c.raised_at.desc())
    return await _follow_ups(session, query)


async def queued_follow_ups_of(session: AsyncSession, executive_id: str) -> list[FollowUp]:
    """An executive's follow-ups that are open or in progress."""
    query = select(follow_ups).where(follow_ups.c.executive_id == executive_id, follow_ups.c.status.in_(QUEUED))
    return await _follow_ups(session, query)


async def _follow_ups(session: AsyncSession, query: Select[Any]) -> list[FollowUp]:
    return [
        FollowUp(
            follow_up_id=row.follow_up_id,
            account_id=row.account_id,
            kind=FollowUpKind(row.kind),
            reference=row.reference,
            summary=row.summary,
            executive_id=row.executive_id,
            status=Status(row.status),
            raised_at=_utc(row.raised_at),
            due_at=_utc(row.due_at),
            updated_at=_utc(row.updated_at),
        )
        for row in await session.execute(query)
    ]


def _follow_up_state(follow_up: FollowUp) -> dict[str, Any]:
    return {
        "status": follow_up.status.value,
        "executive_id": follow_up.executive_id,
        "updated_at": follow_up.updated_at,
    }


# --- timeline

_FACT = [timeline.c.account_id, timeline.c.kind, timeline.c.reference]
_NOTE_ONCE = {
    "sqlite": sqlite.insert(timeline).on_conflict_do_nothing(index_elements=_FACT),
    "postgresql": postgresql.insert(timeline).on_conflict_do_nothing(index_elements=_FACT),
}
"""Insert a timeline entry unless the account's timeline tells its fact already (``uq_timeline_reference``);
built once per database (every store and billing event passes here)."""


async def note(session: AsyncSession, entries: Sequence[TimelineEntry]) -> None:
    """Add the entries whose fact (account, kind and reference) the timeline does not tell yet, in one
    statement; of two entries in ``entries`` telling the same fact, the first is kept. An entry
    without a reference is always added."""
    rows = [
        {
            "account_id": entry.account_id,
            "event_id": entry.event_id,
            "kind": entry.kind,
            "summary": entry.summary,
            "occurred_at": entry.occurred_at,
            "reference": entry.reference,
        }
        for entry in told_once(entries)
    ]
    if rows:
        await session.execute(_NOTE_ONCE[session.get_bind().dialect.name], rows)


async def timeline_of(session: AsyncSession, account_id: str) -> list[TimelineEntry]:
    """The account's timeline, the latest thing that happened first (by when it happened, not when it arrived)."""
    rows = await session.execute(
        select(timeline)
        .where(timeline.c.account_id == account_id)
        .order_by(timeline.c.occurred_at.desc(), timeline.c.id.desc())
    )
    return [
        TimelineEntry(row.account_id, row.event_id, row.kind, row.summary, _utc(row.occurred_at), row.reference)
        for row in rows
    ]


# --- corrections of the triage


async def add_correction(session: AsyncSession, correction: Correction, event_id: str) -> None:
    """Keep an executive's correction; ``event_id`` is the update that carried it."""
    await session.execute(
        insert(triage_corrections).values(
            account_id=correction.account_id,
            request_id=correction.request_id,
            text=correction.text,
            automatic_decision=correction.automatic_decision.value,
            confidence=correction.confidence,
            label=correction.label.value,
            corrected_by=correction.corrected_by,
            corrected_at=correction.corrected_at,
            note=correction.note,
            event_id=event_id,
        )
    )


async def corrections(session: AsyncSession, since: datetime | None = None) -> list[Correction]:
    """The corrections kept (from ``since`` on), in the order they were made."""
    query = select(triage_corrections).order_by(triage_corrections.c.corrected_at, triage_corrections.c.id)
    if since is not None:
        query = query.where(triage_corrections.c.corrected_at >= since)
    return [
        Correction(
            account_id=row.account_id,
            request_id=row.request_id,
            text=row.text,
            automatic_decision=Decision(row.automatic_decision),
            confidence=row.confidence,
            label=Decision(row.label),
            corrected_by=row.corrected_by,
            corrected_at=_utc(row.corrected_at),
            note=row.note,
        )
        for row in await session.execute(query)
    ]


# --- stored moments


def _utc(moment: datetime) -> datetime:
    """A stored moment as an aware UTC datetime (SQLite hands back naive UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _utc_or_none(moment: datetime | None) -> datetime | None:
    return None if moment is None else _utc(moment)
