"""Billing's read endpoints."""

from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from tienda.billing.adapters import repository
from tienda.messaging.http import TokenRing, account_route
from tienda.messaging.worker import Runtime


def routes(runtime: Runtime, tokens: TokenRing) -> Sequence[BaseRoute]:
    async def charges(_: Request, account_id: str) -> Response:
        async with runtime.sessions() as session:
            return JSONResponse({"account_id": account_id, "charges": await repository.charges_of(session, account_id)})

    async def payments(_: Request, account_id: str) -> Response:
        async with runtime.sessions() as session:
            return JSONResponse(
                {"account_id": account_id, "payments": await repository.payments_of(session, account_id)}
            )

    return [
        account_route("/accounts/{account_id}/charges", charges, tokens),
        account_route("/accounts/{account_id}/payments", payments, tokens),
    ]
