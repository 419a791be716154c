"""Billing's real handlers on a real database (SQLite and PostgreSQL), a fake broker, and
vivid messages: Ferretería Rojas on the Pyme plan, anchored on the last day of January."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tests.harness import Harness, harness
from tests.samples import CAMILA, account
from tienda.billing.bootstrap import definition
from tienda.billing.config import BillingSettings
from tienda.billing.service_layer.renewal import Renewed, renew_due_accounts
from tienda.billing.service_layer.scheduler import SchedulerPolicy, TickReport, tick
from tienda.contracts.business_day import CHILE
from tienda.contracts.envelope import Envelope, new_envelope
from tienda.contracts.messages.activation import ChargeScheduled, PricedLine
from tienda.contracts.messages.billing import (
    BillingDataSubmitted,
    CardSubscribed,
    CardUnsubscribed,
    UfValuePublished,
)
from tienda.contracts.messages.payment import PaymentFailed, PaymentReceived
from tienda.contracts.messages.plans import BillingCycle, PlanContracted
from tienda.contracts.messages.store import ReducedLine, ReductionScheduled
from tienda.contracts.topics import PLATFORM_ACCOUNT
from tienda.contracts.types import PaymentMode
from tienda.messaging.database import session_factory
from tienda.messaging.unit_of_work import UnitOfWork

USERS = ("USR-EXTRA", "Usuario adicional", "0.5000")
DTE_100 = ("DTE-100", "Pack 100 DTE mensuales", "0.3500")
WORKERS_10 = ("TRB-10", "10 trabajadores de remuneraciones", "0.2500")


def at_noon(day: date) -> datetime:
    """Midday in Santiago on ``day``, in UTC."""
    return datetime.combine(day, time(12), tzinfo=CHILE).astimezone(UTC)


def plan_contracted(
    account_id: str,
    *,
    anchor: date = date(2027, 1, 31),
    cycle: BillingCycle = BillingCycle.MONTHLY,
    price: str = "2.5000",
    on: date | None = None,
    plan_code: str = "PYME",
) -> Envelope[PlanContracted]:
    payload = PlanContracted(
        plan_code=plan_code,
        plan_name=plan_code.title(),
        included=[],
        billing_cycle=cycle,
        renewal_anchor=anchor,
        plan_price_uf=Decimal(price),
    )
    return new_envelope(payload, account_id=account_id, producer="erp-web", occurred_at=at_noon(on or anchor))


def charge_scheduled(
    account_id: str,
    effective: date,
    *lines: tuple[tuple[str, str, str], int],
    mode: PaymentMode = PaymentMode.AT_RENEWAL,
    activation_id: str | None = None,
) -> Envelope[ChargeScheduled]:
    payload = ChargeScheduled(
        activation_id=activation_id or str(uuid.uuid4()),
        request_id=f"req-{uuid.uuid4().hex[:8]}",
        requested_by=CAMILA,
        payment_mode=mode,
        effective_date=effective,
        lines=[
            PricedLine(sku=sku, description=description, quantity=quantity, unit_price_uf=price)
            for (sku, description, price), quantity in (lines or ((USERS, 2),))
        ],
    )
    return new_envelope(payload, account_id=account_id, producer="store", occurred_at=at_noon(effective))


def reduction_scheduled(
    account_id: str, sku: str, quantity: int, requested_on: date = date(2027, 2, 15)
) -> Envelope[ReductionScheduled]:
    payload = ReductionScheduled(
        reduction_id=uuid.uuid4(),
        request_id=f"red-{uuid.uuid4().hex[:6]}",
        requested_by=CAMILA,
        requested_on=requested_on,
        lines=[
            ReducedLine(
                sku=sku,
                description="Usuario adicional",
                resource="users",
                quantity=quantity,
                units=quantity,
                unit_price_uf="0.5000",
            )
        ],
        entitlements_after=[],
    )
    return new_envelope(payload, account_id=account_id, producer="store")


def uf_published(day: date, value: str) -> Envelope[UfValuePublished]:
    payload = UfValuePublished(uf_date=day, clp_per_uf=Decimal(value))
    return new_envelope(payload, account_id=PLATFORM_ACCOUNT, producer="indicator-feed")


def payment(account_id: str, reference: str, amount: int, payment_id: str | None = None) -> Envelope[PaymentReceived]:
    payload = PaymentReceived(
        payment_id=payment_id or f"wp-{uuid.uuid4().hex[:10]}",
        reference=reference,
        amount_clp=amount,
        method="webpay",
        paid_by="Camila Rojas",
        paid_at=datetime(2027, 3, 2, 15, 30, tzinfo=UTC),
    )
    return new_envelope(payload, account_id=account_id, producer="payment-gateway")


def payment_failed(account_id: str, reference: str, amount: int, failed_at: datetime) -> Envelope[PaymentFailed]:
    payload = PaymentFailed(
        payment_id=f"wp-fail-{uuid.uuid4().hex[:8]}",
        reference=reference,
        amount_clp=amount,
        reason="tarjeta rechazada por el emisor",
        failed_at=failed_at,
    )
    return new_envelope(payload, account_id=account_id, producer="payment-gateway")


def card_subscribed(account_id: str, last_four: str = "4242", token: str = "tok_visa_9f8e7d") -> Envelope[Any]:
    payload = CardSubscribed(token_reference=token, brand="visa", last_four=last_four, subscribed_by=CAMILA)
    return new_envelope(payload, account_id=account_id, producer="erp-web")


def card_unsubscribed(account_id: str) -> Envelope[Any]:
    return new_envelope(CardUnsubscribed(unsubscribed_by=CAMILA), account_id=account_id, producer="erp-web")


def billing_data_submitted(account_id: str, submission_id: str | None = None, **changes: str) -> Envelope[Any]:
    fields = {
        "legal_name": "Ferretería Rojas SpA",
        "rut": "76.086.428-5",
        "business_activity": "Venta al por menor de artículos de ferretería",
        "address": "Av. Libertador Bernardo O'Higgins 1234, oficina 56",
        "comuna": "Santiago",
        "city": "Santiago",
        "billing_email": "facturas@ferreteria-rojas.cl",
    } | changes
    payload = BillingDataSubmitted(
        submission_id=submission_id or f"sub-{uuid.uuid4().hex[:8]}", submitted_by=CAMILA, **fields
    )
    return new_envelope(payload, account_id=account_id, producer="erp-web")


def of_type(messages: Sequence[dict[str, Any]], message_type: str) -> list[dict[str, Any]]:
    return [message for message in messages if message["type"] == message_type]


def payloads(messages: Sequence[dict[str, Any]], message_type: str) -> list[dict[str, Any]]:
    return [message["payload"] for message in of_type(messages, message_type)]


@dataclass
class Billing:
    """The harness plus what billing's tests do again and again."""

    h: Harness
    seen: int = 0
    policy: SchedulerPolicy = field(default_factory=SchedulerPolicy)

    async def deliver(self, *envelopes: Envelope[Any]) -> None:
        for envelope in envelopes:
            await self.h.deliver(envelope)

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(session_factory(self.h.engine), self.h.definition.tables, "billing")

    async def renew(self, on: date, now: datetime | None = None) -> list[Renewed]:
        """The invoices of a renewal run for ``on``, as each of its transactions committed them."""
        renewed: list[Renewed] = []
        await renew_due_accounts(self.unit_of_work, on, now or at_noon(on), on_renewed=renewed.extend)
        return renewed

    async def tick(self, now: datetime) -> TickReport:
        return await tick(self.unit_of_work, now, self.policy)

    async def fresh(self) -> list[dict[str, Any]]:
        """Messages published since the last call."""
        messages = await self.h.relay()
        new, self.seen = messages[self.seen :], len(messages)
        return new

    async def rows(self, table: str, **where: Any) -> list[dict[str, Any]]:
        return [row for row in await self.h.rows(table) if all(row.get(name) == value for name, value in where.items())]

    async def customer(self, **plan: Any) -> str:
        """A fresh account on the Pyme plan (2.5 UF a month) anchored on 31 January 2027."""
        account_id = account()
        await self.deliver(plan_contracted(account_id, **plan))
        await self.fresh()
        return account_id


@pytest.fixture
async def billing(engine) -> Billing:
    return Billing(await harness(definition(BillingSettings()), engine))


def days(n: int) -> timedelta:
    return timedelta(days=n)
