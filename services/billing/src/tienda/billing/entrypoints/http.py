"""Billing's read endpoints, and the operator's renewal endpoint.

GET  /accounts/{id}/charges         charges recorded per activation line, with their status
GET  /accounts/{id}/payments        payment history: what, amount, method, who, when
GET  /accounts/{id}/orders          online orders; /orders/pending: not paid and not carried
GET  /accounts/{id}/invoices        invoices with their lines (DTE 33 figures)
GET  /accounts/{id}/balance         balance due, credit, periods, card, billing data (the snapshot's view)
POST /admin/renewals                {"date": "2027-01-31"}: run renewal for that date; a token for every account ("*")
"""

import json
from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from tienda.billing.adapters import views
from tienda.billing.service_layer.renewal import renew_due_accounts
from tienda.billing.service_layer.scheduler import Clock
from tienda.messaging.http import TokenRing, account_route, problem
from tienda.messaging.worker import Runtime

Read = Callable[[AsyncSession, str], Awaitable[Any]]

CHARGES = """Charges per activation line: SKU, quantity, price, effective date, status, period, order, invoice."""
PAYMENTS = """Payment history, newest first: what was paid (reference), amount, method, who, when."""
ORDERS = """Online orders, newest first: date, status, net, IVA, total, paid, balance, invoice."""
PENDING = """Pending orders (órdenes pendientes): online orders not paid yet and not carried into a renewal invoice."""
INVOICES = """Invoices, newest first, with their lines and the DTE 33 figures: net, IVA, total, credit, paid, due."""


def routes(clock: Clock) -> Callable[[Runtime, TokenRing], Sequence[BaseRoute]]:
    def build(runtime: Runtime, tokens: TokenRing) -> Sequence[BaseRoute]:
        def view(key: str, read: Read, doc: str) -> Callable[[Request, str], Awaitable[Response]]:
            async def answer(_: Request, account_id: str) -> Response:
                async with runtime.readers() as session:
                    return JSONResponse({"account_id": account_id, key: await read(session, account_id)})

            answer.__doc__ = doc
            return answer

        async def balance(_: Request, account_id: str) -> Response:
            """The account's billing view: balance due, credit, periods, orders, invoices, payments, card.

            The same view the compacted snapshot topic carries: plan and periods, pending orders, invoices,
            the latest payments, the card (brand and last four digits only) and the billing data in use."""
            async with runtime.readers() as session:
                return JSONResponse({"account_id": account_id, **await views.account_view(session, account_id)})

        async def pending(session: AsyncSession, account_id: str) -> Any:
            return await views.orders_of(session, account_id, pending_only=True)

        async def renew(request: Request) -> Response:
            """Run renewal for a date (operators), with a token for every account ("*").

            Body {"date": "YYYY-MM-DD"}. Issues each renewal invoice due by that date, once per account and
            period (running a date twice issues nothing more), and answers the invoices it issued or held."""
            accounts = tokens.accounts_of(request.headers.get("authorization"))
            if accounts is None:
                return problem(401, "unauthorized", "send Authorization: Bearer <token> with a configured token")
            if "*" not in accounts:
                return problem(403, "forbidden", 'running renewals needs a token for every account ("*")')
            try:
                body = json.loads(await request.body() or b"{}")
                on = date.fromisoformat(body["date"])
            except (ValueError, KeyError, TypeError):
                return problem(422, "invalid request", 'send {"date": "YYYY-MM-DD"}: the renewal date to run')
            renewed = await renew_due_accounts(runtime.unit_of_work, on, clock())
            return JSONResponse(
                {
                    "date": on.isoformat(),
                    "invoices": [
                        {
                            "account_id": r.account_id,
                            "invoice_id": r.invoice_id,
                            "period_start": r.period_start.isoformat(),
                            "period_end": r.period_end.isoformat(),
                            "status": r.status,
                        }
                        for r in renewed
                    ],
                }
            )

        return [
            account_route("/accounts/{account_id}/charges", view("charges", views.charges_of, CHARGES), tokens),
            account_route("/accounts/{account_id}/payments", view("payments", views.payments_of, PAYMENTS), tokens),
            account_route("/accounts/{account_id}/orders", view("orders", views.orders_of, ORDERS), tokens),
            account_route("/accounts/{account_id}/orders/pending", view("orders", pending, PENDING), tokens),
            account_route("/accounts/{account_id}/invoices", view("invoices", views.invoices_of, INVOICES), tokens),
            account_route("/accounts/{account_id}/balance", balance, tokens),
            Route("/admin/renewals", renew, methods=["POST"]),
        ]

    return build
