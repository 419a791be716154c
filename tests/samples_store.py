"""Vivid sample messages for the store: plans contracted, suspended, reinstated; reductions.

A cart of an account without a plan waits for the plan (refused as ``unknown_account`` only
after a day). A test that publishes carts and wants them handled at once first publishes
``plan_contracted(account_id)`` for the account and, on the real broker, waits until the store
has it (the plan and the cart travel on two topics, so Kafka does not order them):
``await eventually(store_knows(workers, account_id))`` or, on a database,
``await eventually(lambda: plans_known(store_db, account_ids))``.

By default the plan includes nothing, so the entitlements equal exactly what the store sold.
"""

import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from tests.samples import CAMILA
from tienda.contracts.envelope import Envelope, new_envelope
from tienda.contracts.messages.activation import CartLine, Entitlement
from tienda.contracts.messages.plans import AccountReinstated, AccountSuspended, BillingCycle, PlanContracted
from tienda.contracts.messages.store import ReductionRequested
from tienda.contracts.types import Person
from tienda.messaging.codec import encode
from tienda.store.adapters.tables import account_plans

PLAN_NAMES = {"EMPRENDE": "Emprende", "PYME": "Pyme", "PYME-PLUS": "Pyme Plus", "CORPORATIVO": "Corporativo"}


def plan_contracted(
    account_id: str,
    plan_code: str = "PYME",
    *,
    included: Mapping[str, int] | None = None,
    modules: Sequence[str] = (),
    billing_cycle: BillingCycle = BillingCycle.MONTHLY,
    renewal_anchor: date = date(2026, 3, 15),
    plan_price_uf: Decimal = Decimal("2.9000"),
    occurred_at: datetime | None = None,
) -> Envelope[PlanContracted]:
    """The ERP says the account contracted (or changed to, or renewed) ``plan_code``."""
    payload = PlanContracted(
        plan_code=plan_code,
        plan_name=PLAN_NAMES.get(plan_code, plan_code.title()),
        included=[Entitlement(resource=r, quantity=q) for r, q in (included or {}).items()],
        modules=list(modules),
        billing_cycle=billing_cycle,
        renewal_anchor=renewal_anchor,
        plan_price_uf=plan_price_uf,
    )
    return new_envelope(payload, account_id=account_id, producer="erp-web", occurred_at=occurred_at)


def plans_for(account_ids: Iterable[str], plan_code: str = "PYME") -> list[tuple[str, bytes]]:
    """(key, value) of a PlanContracted per account, for ``publish_all`` on tienda.accounts.plans."""
    return [(account_id, encode(plan_contracted(account_id, plan_code))) for account_id in account_ids]


def account_suspended(account_id: str, reason: str = "Facturas impagas de octubre y noviembre") -> Envelope[Any]:
    return new_envelope(AccountSuspended(reason=reason), account_id=account_id, producer="erp-web")


def account_reinstated(account_id: str) -> Envelope[Any]:
    return new_envelope(AccountReinstated(), account_id=account_id, producer="erp-web")


def reduction_requested(
    account_id: str,
    *lines: tuple[str, int],
    request_id: str | None = None,
    requested_by: Person = CAMILA,
    occurred_at: datetime | None = None,
) -> Envelope[ReductionRequested]:
    payload = ReductionRequested(
        request_id=request_id or f"red-{uuid.uuid4().hex[:8]}",
        requested_by=requested_by,
        lines=[CartLine(sku=sku, quantity=quantity) for sku, quantity in lines],
    )
    return new_envelope(payload, account_id=account_id, producer="erp-web", occurred_at=occurred_at)


def later(envelope_time: datetime | None = None, **delta: float) -> datetime:
    """A moment after now (or after ``envelope_time``), for messages that must come after others."""
    return (envelope_time or datetime.now(UTC)) + timedelta(**delta)


def store_knows(workers: Any, account_id: str) -> Callable[[], Awaitable[bool]]:
    """A probe for ``eventually``: the store worker has the account's plan (end-to-end tests)."""

    async def probe() -> bool:
        return workers.get_json("store", f"/accounts/{account_id}/plan")["plan"] is not None

    return probe


async def plans_known(store_db: Any, account_ids: Sequence[str]) -> bool:
    """Whether the store's database has a plan for every account (``store_db.count`` of tests/reliability)."""
    query = select(func.count()).select_from(account_plans).where(account_plans.c.account_id.in_(account_ids))
    async with store_db.engine.connect() as connection:
        return int(await connection.scalar(query) or 0) == len(set(account_ids))
