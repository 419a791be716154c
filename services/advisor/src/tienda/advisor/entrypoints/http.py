"""The advisor's read endpoints: an account's requests and timeline, an executive's queue (the
worker adds health, metrics and the documents)."""

from collections.abc import Callable, Sequence
from typing import Any

from fastapi import APIRouter

from tienda.advisor.adapters import repository
from tienda.messaging.clock import Clock
from tienda.messaging.http import TokenRing, account_readers, operators
from tienda.messaging.worker import Runtime


def routes(clock: Clock) -> Callable[[Runtime, TokenRing], Sequence[APIRouter]]:
    def build(runtime: Runtime, tokens: TokenRing) -> Sequence[APIRouter]:
        accounts = account_readers(tokens)
        queues = operators(tokens, "an executive's queue spans accounts")

        @accounts.get("/accounts/{account_id}/timeline")
        async def account_timeline(account_id: str) -> dict[str, Any]:
            """The account's commercial timeline, oldest first, and its follow-ups."""
            async with runtime.readers() as session:
                entries = await repository.timeline_of(session, account_id)
                follow_ups = await repository.follow_ups_of(session, account_id)
            return {"account_id": account_id, "timeline": entries, "follow_ups": follow_ups}

        @accounts.get("/accounts/{account_id}/requests")
        async def account_requests(account_id: str) -> dict[str, Any]:
            """The account's commercial requests, with their status, executive and due times."""
            async with runtime.readers() as session:
                found = await repository.requests_of(session, account_id)
            return {"account_id": account_id, "requests": found}

        @queues.get("/executives/{executive_id}/queue")
        async def executive_queue(executive_id: str) -> dict[str, Any]:
            """An executive's open requests and follow-ups, by due time (a token for every account)."""
            async with runtime.readers() as session:
                executive = await repository.executive(session, executive_id)
                queue = await repository.queue_of(session, executive_id, clock())
            known = {"name": executive.name, "email": executive.email} if executive else None
            return {"executive_id": executive_id, "executive": known, "queue": queue}

        return [accounts, queues]

    return build
