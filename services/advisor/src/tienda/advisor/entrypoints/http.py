"""The advisor's read endpoints: an account's requests and timeline, an executive's queue (the
worker adds health, metrics and the documents). Each answers a read model of
``service_layer/views.py``."""

from collections.abc import Callable, Sequence

from fastapi import APIRouter

from tienda.advisor.service_layer import views
from tienda.messaging.clock import Clock
from tienda.messaging.http import TokenRing, account_readers, operators
from tienda.messaging.worker import Runtime


def routes(clock: Clock) -> Callable[[Runtime, TokenRing], Sequence[APIRouter]]:
    def build(runtime: Runtime, tokens: TokenRing) -> Sequence[APIRouter]:
        accounts = account_readers(tokens)
        queues = operators(tokens, "an executive's queue spans accounts")

        @accounts.get("/accounts/{account_id}/timeline")
        async def account_timeline(account_id: str) -> views.AccountTimeline:
            """The account's commercial timeline, the latest first, and its follow-ups."""
            async with runtime.readers() as session:
                return await views.account_timeline(session, account_id)

        @accounts.get("/accounts/{account_id}/requests")
        async def account_requests(account_id: str) -> views.AccountRequests:
            """The account's commercial requests, with their status, executive, due times and triage."""
            async with runtime.readers() as session:
                return await views.account_requests(session, account_id)

        @queues.get("/executives/{executive_id}/queue")
        async def executive_queue(executive_id: str) -> views.ExecutiveQueue:
            """An executive's open requests and follow-ups, by due time (a token for every account)."""
            async with runtime.readers() as session:
                return await views.executive_queue(session, executive_id, clock())

        return [accounts, queues]

    return build
