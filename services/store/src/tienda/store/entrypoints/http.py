"""The store's read endpoints."""

from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from tienda.messaging.http import TokenRing, account_route
from tienda.messaging.worker import Runtime
from tienda.store.adapters import repository


def routes(runtime: Runtime, tokens: TokenRing) -> Sequence[BaseRoute]:
    async def plan(_: Request, account_id: str) -> Response:
        async with runtime.sessions() as session:
            current = await repository.entitlements_of(session, account_id)
            history = await repository.activation_history(session, account_id)
        return JSONResponse({"account_id": account_id, "entitlements": current, "activations": history})

    return [account_route("/accounts/{account_id}/plan", plan, tokens)]
