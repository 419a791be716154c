"""The advisor's read endpoints: an account's requests and timeline, an executive's queue."""

from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from tienda.advisor.adapters import repository
from tienda.advisor.entrypoints.overdue import Clock
from tienda.messaging.http import TokenRing, account_route, problem
from tienda.messaging.worker import Runtime

EVERY_ACCOUNT = "*"


def operations_only(request: Request, tokens: TokenRing) -> Response | None:
    """None when the token reads every account ("*"): an executive's queue spans accounts."""
    accounts = tokens.accounts_of(request.headers.get("authorization"))
    if accounts is None:
        return problem(401, "unauthorized", "send Authorization: Bearer <token> with a configured token")
    if EVERY_ACCOUNT not in accounts:
        return problem(403, "forbidden", 'an executive\'s queue spans accounts: it needs a token for ["*"]')
    return None


def routes(runtime: Runtime, tokens: TokenRing, clock: Clock) -> Sequence[BaseRoute]:
    async def account_timeline(_: Request, account_id: str) -> Response:
        async with runtime.readers() as session:
            entries = await repository.timeline_of(session, account_id)
            follow_ups = await repository.follow_ups_of(session, account_id)
        return JSONResponse({"account_id": account_id, "timeline": entries, "follow_ups": follow_ups})

    async def account_requests(_: Request, account_id: str) -> Response:
        async with runtime.readers() as session:
            found = await repository.requests_of(session, account_id)
        return JSONResponse({"account_id": account_id, "requests": found})

    async def executive_queue(request: Request) -> Response:
        refusal = operations_only(request, tokens)
        if refusal:
            return refusal
        executive_id = request.path_params["executive_id"]
        async with runtime.readers() as session:
            executive = await repository.executive(session, executive_id)
            queue = await repository.queue_of(session, executive_id, clock())
        known = {"name": executive.name, "email": executive.email} if executive else None
        return JSONResponse({"executive_id": executive_id, "executive": known, "queue": queue})

    return [
        account_route("/accounts/{account_id}/timeline", account_timeline, tokens),
        account_route("/accounts/{account_id}/requests", account_requests, tokens),
        Route("/executives/{executive_id}/queue", executive_queue, methods=["GET"]),
    ]
