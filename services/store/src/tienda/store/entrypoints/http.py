"""The store's read endpoints (the worker adds health, metrics and the documents)."""

from collections.abc import Callable, Sequence
from datetime import timedelta

from fastapi import APIRouter

from tienda.messaging.clock import Clock
from tienda.messaging.http import TokenRing, account_readers
from tienda.messaging.worker import Runtime
from tienda.store.service_layer.views import PlanView, plan_view


def routes(clock: Clock, wait: timedelta) -> Callable[[Runtime, TokenRing], Sequence[APIRouter]]:
    def build(runtime: Runtime, tokens: TokenRing) -> Sequence[APIRouter]:
        accounts = account_readers(tokens)

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

        return [accounts]

    return build
