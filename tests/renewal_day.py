"""A renewal day: many accounts that renew on the same date, with a realistic mix, seeded into
billing's database through billing's own handlers (the path the worker takes), in batches.

Each account has the Pyme plan (2.5 UF a month) anchored on 31 January 2027, so all renew on
28 February 2027. Of the accounts, by their number:
- three in four bought 1 to 3 add-ons paid at renewal on 10 February (prorated, then recurring);
- one in five has an online order of 10 February still unpaid (carried into the renewal invoice);
- one in ten paid an online order with about 50,000 pesos too much (credit for the renewal invoice);
- one in two submitted billing data; one in three subscribed a card (autopay at renewal).
Shared by the renewal benchmark (bench/renewal.py) and the renewal tests."""

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from tests.billing.conftest import (
    DTE_100,
    USERS,
    WORKERS_10,
    billing_data_submitted,
    card_subscribed,
    charge_scheduled,
    payment,
    plan_contracted,
    uf_published,
)
from tienda.billing.adapters import accounts as billing_accounts
from tienda.billing.adapters import uf_values
from tienda.billing.domain import ids
from tienda.billing.domain.accounts import Plan, open_account
from tienda.billing.domain.documents import Conversion
from tienda.contracts.envelope import Envelope
from tienda.contracts.pricing.periods import Cycle
from tienda.contracts.types import PaymentMode
from tienda.messaging.codec import encode
from tienda.messaging.counters import Counters
from tienda.messaging.database import session_factory
from tienda.messaging.dead_letters import DeadLetters
from tienda.messaging.processor import MessageProcessor
from tienda.messaging.records import Record
from tienda.messaging.unit_of_work import UnitOfWork
from tienda.messaging.worker import ServiceDefinition

ANCHOR, BOUGHT, RENEWAL = date(2027, 1, 31), date(2027, 2, 10), date(2027, 2, 28)
ADDONS = (USERS, DTE_100, WORKERS_10)
OVER_PAID_CLP = 65_000
"""Paid for an order of one extra user from 10 to 27 February (about 15,000 pesos): the rest is credit."""


def account_ids(count: int, prefix: str = "acc-renewal") -> list[str]:
    run = uuid.uuid4().hex[:6]
    return [f"{prefix}-{run}-{n:06d}" for n in range(count)]


def renewal_day(accounts: Sequence[str]) -> list[list[Envelope[Any]]]:
    """The messages that make ``accounts`` due on ``RENEWAL``, in phases (each after the one before)."""
    plans = [plan_contracted(account_id, anchor=ANCHOR) for account_id in accounts]
    bought: list[Envelope[Any]] = [uf_published(BOUGHT, "39123.45"), uf_published(RENEWAL, "39200.00")]
    paid: list[Envelope[Any]] = []
    for n, account_id in enumerate(accounts):
        if n % 4:
            lines = [(addon, 1 + (n + i) % 3) for i, addon in enumerate(ADDONS[: n % 4])]
            bought.append(charge_scheduled(account_id, BOUGHT, *lines))
        if n % 5 == 0 or n % 10 == 1:
            activation_id = str(uuid.uuid4())
            bought.append(
                charge_scheduled(account_id, BOUGHT, (USERS, 1), mode=PaymentMode.ONLINE, activation_id=activation_id)
            )
            if n % 10 == 1:
                paid.append(payment(account_id, ids.order_id(activation_id), OVER_PAID_CLP))
        if n % 2 == 0:
            bought.append(billing_data_submitted(account_id))
        if n % 3 == 0:
            bought.append(card_subscribed(account_id))
    return [plans, bought, paid]


async def seed_plans(engine: Any, accounts: Sequence[str], now: datetime) -> None:
    """Only the plans (Pyme, anchored on ``ANCHOR``) and the UF value of ``RENEWAL``, written straight
    into billing's tables in chunks: for tests about the run itself (exactly once, the loop, the
    group) rather than the invoices' figures, which billing's own tests check."""
    plan = Plan("PYME", "Pyme", Cycle.MONTHLY, ANCHOR, Decimal("2.5000"))
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        await uf_values.add_uf_value(session, Conversion(RENEWAL, Decimal("39200.00")), str(uuid.uuid4()), now)
    for start in range(0, len(accounts), 500):
        async with sessions() as session, session.begin():
            opened = [open_account(account_id, plan, ANCHOR) for account_id in accounts[start : start + 500]]
            await billing_accounts.add_accounts(session, opened, now)


class _NullPublisher:
    async def send(self, topic: str, key: str | None, value: bytes, headers: Any = None) -> Any:
        raise AssertionError("seeding publishes nothing")


async def seed(definition: ServiceDefinition, engine: Any, accounts: Sequence[str], batch: int = 200) -> None:
    """Billing's handlers take the renewal day's messages, in batches, as the worker's consumer would."""
    sessions = session_factory(engine)
    counters = Counters()
    processor = MessageProcessor(
        definition.consumer.handlers,
        lambda: UnitOfWork(sessions, definition.tables, definition.name),
        DeadLetters(definition.name, _NullPublisher()),
        counters,
    )
    offset = 0
    for phase in renewal_day(accounts):
        for start in range(0, len(phase), batch):
            records = []
            for envelope in phase[start : start + batch]:
                records.append(Record("tienda.seed", 0, offset, envelope.account_id.encode(), encode(envelope)))
                offset += 1
            await processor.process_batch(records)
    if counters.dead_lettered:
        raise AssertionError(f"{counters.dead_lettered} seed message(s) dead-lettered: the renewal day is wrong")
