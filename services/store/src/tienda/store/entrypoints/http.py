"""The store's read endpoints (the worker adds health, metrics and the documents). They only read,
so they are served by the store's read process (``tienda.store.reads``) beside the worker."""

from collections.abc import Callable, Sequence
from datetime import timedelta

from fastapi import APIRouter, Response
from pydantic import TypeAdapter

from tienda.messaging.clock import Clock
from tienda.messaging.http import TokenRing, account_readers
from tienda.messaging.reads import Reads
from tienda.store.service_layer.quotes import CartQuote, CartQuoteRequest, DayReadings, quote_cart
from tienda.store.service_layer.views import PlanView, plan_view

_QUOTE = TypeAdapter(CartQuote)


def routes(clock: Clock, wait: timedelta) -> Callable[[Reads, TokenRing], Sequence[APIRouter]]:
    def build(runtime: Reads, tokens: TokenRing) -> Sequence[APIRouter]:
        accounts = account_readers(tokens)
        readings = DayReadings()

        @accounts.get("/accounts/{account_id}/plan")
        async def plan(account_id: str) -> PlanView:
            """The account's plan as "Cuenta y Facturación" shows it.

            The plan (null before the account's first PlanContracted) and its status, features (modules),
            counts of users, legal entities, payroll workers and DTE quota, entitlements by resource,
            each resource's included, purchased and scheduled-removal quantities, the reductions pending
            for the next renewal, the whole activation history: what, who, when, at what price; and the
            carts and reductions that reached the store before the account's plan and wait for it."""
            async with runtime.readers() as session:
                return await plan_view(session, account_id, clock(), wait)

        @accounts.post("/accounts/{account_id}/cart/quote", response_model=CartQuote)
        async def quote(account_id: str, cart: CartQuoteRequest) -> Response:
            """What the cart would cost if activated now, or why it would be refused; writes nothing.

            The cart (the lines and payment mode of an ActivationRequested) is judged by the activation's
            own rules and reason codes, against the account's plan, entitlements and status now and the
            catalog of the day, and priced as billing will price it: each line prorated in the billing
            period of the effective date (period, days charged, period days, UF), in pesos at the UF value
            of that day, net, IVA and total due now (online) or added to the next renewal (at renewal),
            and the recurring amount per period from the next renewal on. Without the day's UF value it
            says so (uf_value_known false) and gives UF amounts only."""
            async with runtime.read_only.connect() as connection:
                answer = await quote_cart(connection, account_id, cart, clock(), readings)
            # Built by quote_cart from validated parts: encoded once, without FastAPI validating it again.
            return Response(_QUOTE.dump_json(answer), media_type="application/json")

        return [accounts]

    return build
