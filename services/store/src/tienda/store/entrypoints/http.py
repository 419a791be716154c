"""The store's read endpoints."""

from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from tienda.messaging.http import TokenRing, account_route
from tienda.messaging.worker import Runtime
from tienda.store.service_layer.views import plan_view


def routes(runtime: Runtime, tokens: TokenRing) -> Sequence[BaseRoute]:
    async def plan(_: Request, account_id: str) -> Response:
        """The account's plan as "Cuenta y Facturación" shows it.

        The plan (null before the account's first PlanContracted) and its status, features (modules),
        counts of users, legal entities, payroll workers and DTE quota, entitlements by resource,
        each resource's included, purchased and scheduled-removal quantities, the reductions pending
        for the next renewal, and the whole activation history: what, who, when, at what price."""
        async with runtime.readers() as session:
            return JSONResponse(await plan_view(session, account_id))

    return [account_route("/accounts/{account_id}/plan", plan, tokens)]
