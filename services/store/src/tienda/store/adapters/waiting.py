"""The requests waiting for their account's plan (``domain/waiting.py``), in the store's database.

Set aside in the transaction that records the request's event id in the inbox; taken (read and
deleted) in the transaction that handles or refuses them. Taking locks the rows on PostgreSQL
(``FOR UPDATE``) and the scheduler skips rows a PlanContracted is taking (``SKIP LOCKED``), so a
request is either handled with its plan or refused after the wait, never both. (Setting aside
and a first PlanContracted of one account never interleave: ``repository.serialize_new_account``.)
"""

from datetime import UTC, datetime

from sqlalchemy import RowMapping, bindparam, delete, exists, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from tienda.store.adapters.tables import account_plans, waiting_requests
from tienda.store.domain.waiting import RequestKind, WaitingRequest

_OF_ACCOUNT = (
    select(waiting_requests)
    .where(waiting_requests.c.account_id == bindparam("account_id"))
    .order_by(waiting_requests.c.position)
)
_IS_WAITING = select(waiting_requests.c.position).where(
    waiting_requests.c.account_id == bindparam("account_id"),
    waiting_requests.c.kind == bindparam("kind"),
    waiting_requests.c.request_id == bindparam("request_id"),
)
_HAS_PLAN = exists().where(account_plans.c.account_id == waiting_requests.c.account_id)


async def is_waiting(session: AsyncSession, account_id: str, kind: RequestKind, request_id: str) -> bool:
    found = await session.scalar(_IS_WAITING, {"account_id": account_id, "kind": kind.value, "request_id": request_id})
    return found is not None


async def set_aside(
    session: AsyncSession,
    account_id: str,
    kind: RequestKind,
    request_id: str,
    event_id: str,
    message: bytes,
    at: datetime,
) -> None:
    await session.execute(
        insert(waiting_requests).values(
            account_id=account_id,
            kind=kind.value,
            request_id=request_id,
            event_id=event_id,
            message=message.decode(),
            waiting_since=at,
        )
    )


async def of_account(session: AsyncSession, account_id: str) -> list[WaitingRequest]:
    """What waits for the account's plan, in arrival order (read only: the plan view)."""
    rows = await session.execute(_OF_ACCOUNT, {"account_id": account_id})
    return [_request(row) for row in rows.mappings()]


async def take_of_account(session: AsyncSession, account_id: str) -> list[WaitingRequest]:
    """Everything that waits for this account, in arrival order, removed from the waiting list."""
    rows = await session.execute(_OF_ACCOUNT.with_for_update(), {"account_id": account_id})
    return await _taken(session, [_request(row) for row in rows.mappings()])


async def take_waited_since(session: AsyncSession, before: datetime, limit: int) -> list[WaitingRequest]:
    """Up to ``limit`` requests that have waited since ``before`` or earlier and whose account still
    has no plan, in arrival order, removed from the waiting list."""
    rows = await session.execute(
        select(waiting_requests)
        .where(waiting_requests.c.waiting_since <= before, ~_HAS_PLAN)
        .order_by(waiting_requests.c.position)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return await _taken(session, [_request(row) for row in rows.mappings()])


async def _taken(session: AsyncSession, requests: list[WaitingRequest]) -> list[WaitingRequest]:
    if requests:
        await session.execute(
            delete(waiting_requests).where(waiting_requests.c.position.in_([r.position for r in requests]))
        )
    return requests


def _request(row: RowMapping) -> WaitingRequest:
    since = row["waiting_since"]
    return WaitingRequest(
        position=row["position"],
        account_id=row["account_id"],
        kind=RequestKind(row["kind"]),
        request_id=row["request_id"],
        message=row["message"].encode(),
        waiting_since=since if since.tzinfo else since.replace(tzinfo=UTC),
    )
