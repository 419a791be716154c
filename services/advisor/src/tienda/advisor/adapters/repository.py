"""Reading and writing the advisor's tables inside a unit of work, and its read side."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import RowMapping, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tienda.advisor.adapters.tables import assignments, executives, follow_ups, requests, timeline
from tienda.advisor.domain.assignment import Executive
from tienda.advisor.domain.lifecycle import IN_QUEUE, Status, is_overdue

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


@dataclass(frozen=True)
class StoredRequest:
    account_id: str
    request_id: str
    status: Status
    executive_id: str | None
    first_response_due_at: datetime | None
    first_response_at: datetime | None


async def add_request(session: AsyncSession, **values: Any) -> None:
    await session.execute(insert(requests).values(**values))


async def request(session: AsyncSession, account_id: str, request_id: str) -> StoredRequest | None:
    row = (
        await session.execute(
            select(requests).where(requests.c.account_id == account_id, requests.c.request_id == request_id)
        )
    ).first()
    if row is None:
        return None
    return StoredRequest(
        row.account_id,
        row.request_id,
        Status(row.status),
        row.executive_id,
        utc(row.first_response_due_at),
        utc(row.first_response_at),
    )


async def request_row(session: AsyncSession, account_id: str, request_id: str) -> RowMapping:
    return (
        (
            await session.execute(
                select(requests).where(requests.c.account_id == account_id, requests.c.request_id == request_id)
            )
        )
        .mappings()
        .one()
    )


async def change_request(session: AsyncSession, account_id: str, request_id: str, **values: Any) -> None:
    await session.execute(
        update(requests)
        .where(requests.c.account_id == account_id, requests.c.request_id == request_id)
        .values(**values)
    )


async def open_requests_of(session: AsyncSession, account_id: str) -> Sequence[RowMapping]:
    """The account's requests still in the executive's hands (or waiting for one)."""
    return (
        (
            await session.execute(
                select(requests)
                .where(requests.c.account_id == account_id, requests.c.status.in_([s.value for s in IN_QUEUE]))
                .order_by(requests.c.submitted_at)
            )
        )
        .mappings()
        .all()
    )


async def overdue_requests(session: AsyncSession, now: datetime) -> Sequence[RowMapping]:
    """Open requests past their first-response time that no alert has been raised for yet."""
    return (
        (
            await session.execute(
                select(requests)
                .where(
                    requests.c.status == Status.OPEN.value,
                    requests.c.first_response_at.is_(None),
                    requests.c.first_response_due_at <= now,
                    requests.c.overdue_alerted_at.is_(None),
                )
                .order_by(requests.c.first_response_due_at)
            )
        )
        .mappings()
        .all()
    )


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


# --- follow-ups


async def follow_up_exists(session: AsyncSession, follow_up_id: str) -> bool:
    found = await session.scalar(select(follow_ups.c.follow_up_id).where(follow_ups.c.follow_up_id == follow_up_id))
    return found is not None


async def has_open_follow_up(session: AsyncSession, account_id: str, kind: str) -> bool:
    found = await session.scalar(
        select(func.count()).where(
            follow_ups.c.account_id == account_id,
            follow_ups.c.kind == kind,
            follow_ups.c.status.in_([s.value for s in IN_QUEUE]),
        )
    )
    return bool(found)


async def add_follow_up(session: AsyncSession, **values: Any) -> None:
    await session.execute(insert(follow_ups).values(**values))


async def follow_up(session: AsyncSession, account_id: str, follow_up_id: str) -> RowMapping | None:
    return (
        (
            await session.execute(
                select(follow_ups).where(
                    follow_ups.c.account_id == account_id, follow_ups.c.follow_up_id == follow_up_id
                )
            )
        )
        .mappings()
        .first()
    )


async def change_follow_up(session: AsyncSession, follow_up_id: str, **values: Any) -> None:
    await session.execute(update(follow_ups).where(follow_ups.c.follow_up_id == follow_up_id).values(**values))


async def open_follow_ups_of(session: AsyncSession, account_id: str) -> Sequence[RowMapping]:
    return (
        (
            await session.execute(
                select(follow_ups)
                .where(follow_ups.c.account_id == account_id, follow_ups.c.status.in_([s.value for s in IN_QUEUE]))
                .order_by(follow_ups.c.raised_at)
            )
        )
        .mappings()
        .all()
    )


# --- timeline


@dataclass(frozen=True)
class TimelineEntry:
    account_id: str
    event_id: str
    kind: str
    summary: str
    occurred_at: datetime
    reference: str | None = None


_TOLD = select(timeline.c.id).where(
    timeline.c.account_id == bindparam("account_id"),
    timeline.c.kind == bindparam("kind"),
    timeline.c.reference == bindparam("reference"),
)
_ADD_NOTE = insert(timeline)


async def note(session: AsyncSession, entry: TimelineEntry) -> bool:
    """Add the entry unless the account's timeline already tells the same thing (kind and reference).

    Its two statements are built once (every store and billing event passes here)."""
    if entry.reference is not None:
        told = {"account_id": entry.account_id, "kind": entry.kind, "reference": entry.reference}
        if await session.scalar(_TOLD, told) is not None:
            return False
    await session.execute(
        _ADD_NOTE,
        {
            "account_id": entry.account_id,
            "event_id": entry.event_id,
            "kind": entry.kind,
            "summary": entry.summary,
            "occurred_at": entry.occurred_at,
            "reference": entry.reference,
        },
    )
    return True


# --- read side


def utc(moment: datetime | None) -> datetime | None:
    """A stored moment as an aware UTC datetime (SQLite hands back naive UTC)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _iso(moment: datetime | None) -> str | None:
    aware = utc(moment)
    return aware.isoformat() if aware else None


async def timeline_of(session: AsyncSession, account_id: str) -> list[dict[str, Any]]:
    rows = (
        await session.execute(
            select(timeline)
            .where(timeline.c.account_id == account_id)
            .order_by(timeline.c.occurred_at.desc(), timeline.c.id.desc())
        )
    ).mappings()
    return [{"kind": r["kind"], "summary": r["summary"], "occurred_at": _iso(r["occurred_at"])} for r in rows]


async def follow_ups_of(session: AsyncSession, account_id: str) -> list[dict[str, Any]]:
    rows = (
        await session.execute(
            select(follow_ups).where(follow_ups.c.account_id == account_id).order_by(follow_ups.c.raised_at.desc())
        )
    ).mappings()
    return [_follow_up_view(row) for row in rows]


async def requests_of(session: AsyncSession, account_id: str) -> list[dict[str, Any]]:
    rows = (
        await session.execute(
            select(requests).where(requests.c.account_id == account_id).order_by(requests.c.submitted_at.desc())
        )
    ).mappings()
    return [_request_view(row) for row in rows]


async def queue_of(session: AsyncSession, executive_id: str, now: datetime) -> list[dict[str, Any]]:
    """The executive's open requests and follow-ups, the one due first first."""
    open_statuses = [s.value for s in IN_QUEUE]
    request_rows = (
        await session.execute(
            select(requests).where(requests.c.executive_id == executive_id, requests.c.status.in_(open_statuses))
        )
    ).mappings()
    follow_up_rows = (
        await session.execute(
            select(follow_ups).where(follow_ups.c.executive_id == executive_id, follow_ups.c.status.in_(open_statuses))
        )
    ).mappings()
    items = [
        {
            "item": "request",
            **_request_view(row),
            "due_at": _iso(row["first_response_due_at"]),
            "overdue": is_overdue(utc(row["first_response_due_at"]), row["first_response_at"], now),
        }
        for row in request_rows
    ] + [
        {"item": "follow_up", **_follow_up_view(row), "overdue": is_overdue(utc(row["due_at"]), None, now)}
        for row in follow_up_rows
    ]
    return sorted(items, key=lambda item: (item["due_at"] is None, _sort_key(item["due_at"]), item["account_id"]))


def _sort_key(due_at: str | None) -> datetime:
    return datetime.fromisoformat(due_at) if due_at else datetime.max


def _request_view(row: RowMapping) -> dict[str, Any]:
    return {
        "request_id": row["request_id"],
        "account_id": row["account_id"],
        "kind": row["kind"],
        "text": row["text"],
        "status": row["status"],
        "requested_by": {
            "user_id": row["requested_by_user_id"],
            "name": row["requested_by_name"],
            "email": row["requested_by_email"],
        },
        "preferred_contact": {
            "channel": row["contact_channel"],
            "value": row["contact_value"],
            "when": row["contact_when"],
        },
        "executive_id": row["executive_id"],
        "submitted_at": _iso(row["submitted_at"]),
        "first_response_due_at": _iso(row["first_response_due_at"]),
        "first_response_at": _iso(row["first_response_at"]),
        "redirect": (
            {"reason": row["redirect_reason"], "matched": row["redirect_matched"], "message": row["customer_message"]}
            if row["status"] == Status.REDIRECTED.value or row["redirect_reason"]
            else None
        ),
    }


def _follow_up_view(row: RowMapping) -> dict[str, Any]:
    return {
        "follow_up_id": row["follow_up_id"],
        "account_id": row["account_id"],
        "kind": row["kind"],
        "reference": row["reference"],
        "summary": row["summary"],
        "status": row["status"],
        "executive_id": row["executive_id"],
        "raised_at": _iso(row["raised_at"]),
        "due_at": _iso(row["due_at"]),
    }
