"""The advisor's read endpoints."""

from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from tienda.advisor.adapters import repository
from tienda.messaging.http import TokenRing, account_route
from tienda.messaging.worker import Runtime


def routes(runtime: Runtime, tokens: TokenRing) -> Sequence[BaseRoute]:
    async def account_timeline(_: Request, account_id: str) -> Response:
        async with runtime.sessions() as session:
            return JSONResponse(
                {"account_id": account_id, "timeline": await repository.timeline_of(session, account_id)}
            )

    return [account_route("/accounts/{account_id}/timeline", account_timeline, tokens)]
