"""Order across topics on the real broker (issue 16): each pair of messages billing reads from
different topics, published in both orders to the billing worker running as a process, ends
in the same state.

"In order" means what billing saw: the second message is published only after billing handled
the first (its MessageOutcome on tienda.ops.outcomes). Each order runs on its own account; the
two accounts' answers of every read endpoint are compared with their ids replaced by names.
Billing runs alone here (the store is not needed: the test publishes ChargeScheduled and
ReductionScheduled as the store would), with a payment-match grace of 6 s."""

import json
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import count
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from tests.billing.conftest import (
    USERS,
    billing_data_submitted,
    charge_scheduled,
    payment,
    plan_contracted,
    reduction_scheduled,
)
from tests.e2e.conftest import TOKEN
from tests.kafka_client import TopicReader, publish
from tests.samples import CAMILA, account
from tests.waiting import eventually
from tienda.billing.domain import ids
from tienda.contracts.envelope import Envelope, new_envelope
from tienda.contracts.messages.billing import CardSubscribed, UfValuePublished
from tienda.contracts.messages.plans import AccountSuspended
from tienda.contracts.topics import BILLING_EVENTS, OPERATIONS_OUTCOMES, PLATFORM_ACCOUNT, topic_for
from tienda.contracts.types import PaymentMode
from tienda.devkit.workers import WorkerProcess, worker_env
from tienda.messaging.provisioning import ensure_topics

pytestmark = pytest.mark.broker

GRACE_SECONDS = 6
ENDPOINTS = ("charges", "payments", "orders", "orders/pending", "invoices", "balance")
_anchors = count()


def fresh_anchor() -> date:
    """An anchor no other test of the session uses, far from today (so the worker's own scheduler
    never renews these accounts and the UF values of their dates are published only here)."""
    return date(2041, 1, 1) + timedelta(days=40 * next(_anchors) + uuid.uuid4().int % 20)


def uf_value(day: date) -> Envelope[UfValuePublished]:
    """The day's UF value: the same for a day however often it is published."""
    value = Decimal(f"39{day.toordinal() % 1000:03d}.{day.day:02d}")
    return new_envelope(
        UfValuePublished(uf_date=day, clp_per_uf=value), account_id=PLATFORM_ACCOUNT, producer="indicator-feed"
    )


def card(account_id: str) -> Envelope[CardSubscribed]:
    payload = CardSubscribed(token_reference="tok_visa_e2e", brand="visa", last_four="4242", subscribed_by=CAMILA)
    occurred = datetime(2040, 12, 1, 12, tzinfo=UTC)
    return new_envelope(payload, account_id=account_id, producer="erp-web", occurred_at=occurred)


class Outcomes:
    """tienda.ops.outcomes read from its end: which events the billing worker handled."""

    def __init__(self, bootstrap_servers: str) -> None:
        self._consumer = AIOKafkaConsumer(
            OPERATIONS_OUTCOMES.name, bootstrap_servers=bootstrap_servers, group_id=None, auto_offset_reset="latest"
        )
        self.handled: dict[str, dict[str, Any]] = {}

    async def start(self) -> None:
        await self._consumer.start()
        await self._consumer.seek_to_end()

    async def stop(self) -> None:
        await self._consumer.stop()

    async def of(self, envelope: Envelope[Any]) -> dict[str, Any]:
        """The outcome of ``envelope`` in billing, once it is there."""
        event_id = str(envelope.event_id)

        async def seen() -> dict[str, Any] | None:
            for records in (await self._consumer.getmany(timeout_ms=200)).values():
                for record in records:
                    message = json.loads(record.value)
                    if message["payload"]["service"] == "billing":
                        self.handled[message["payload"]["handled_event_id"]] = message
            return self.handled.get(event_id)

        return await eventually(seen, timeout=60, what=f"billing handling {envelope.type} {event_id}")


@dataclass
class Billing:
    worker: WorkerProcess
    bootstrap_servers: str
    outcomes: Outcomes
    ids: dict[str, str] = field(default_factory=dict)

    async def send(self, *envelopes: Envelope[Any]) -> None:
        """Publish each message and wait until billing handled it, before the next."""
        for envelope in envelopes:
            await publish(self.bootstrap_servers, topic_for(envelope.type, envelope.producer).name, envelope)
            outcome = await self.outcomes.of(envelope)
            assert outcome["payload"]["result"] in ("processed", "deduplicated"), outcome

    async def renew(self, on: date) -> None:
        async with httpx.AsyncClient(base_url=self.worker.url, timeout=60) as client:
            answer = await client.post(
                "/admin/renewals",
                json={"date": on.isoformat(), "early": True},
                headers={"Authorization": f"Bearer {TOKEN}"},
            )
        assert answer.status_code == 202, answer.text

        async def finished() -> bool:
            return self.worker.get(f"/admin/renewals/{on.isoformat()}", TOKEN)["state"] == "finished"

        await eventually(finished, timeout=60, what=f"the renewal run of {on} finished")

    def state(self, account_id: str, names: dict[str, str]) -> dict[str, Any]:
        """Every endpoint's answer for the account, its ids replaced by ``names`` (id -> name) and
        its renewal invoices' ids (derived from the account) by their date."""
        answers = {path: self.worker.get(f"/accounts/{account_id}/{path}", TOKEN) for path in ENDPOINTS}
        for invoice in answers["invoices"]["invoices"]:
            if invoice["kind"] == "renewal":
                names = {invoice["invoice_id"]: f"RENEWAL-{invoice['issue_date']}", **names}
        text = json.dumps(answers, sort_keys=True)
        for found, name in sorted({account_id: "ACCOUNT", **names}.items(), key=lambda item: -len(item[0])):
            text = text.replace(found, name)
        return dict(json.loads(text))


def activation_names(activation_id: str) -> dict[str, str]:
    return {activation_id: "ACTIVATION", ids.order_id(activation_id): "ORDER"}


@pytest.fixture(scope="module")
def billing_worker(bootstrap_servers: str) -> Iterator[WorkerProcess]:
    import asyncio  # noqa: PLC0415

    asyncio.run(ensure_topics(bootstrap_servers))
    data_dir = Path(tempfile.mkdtemp(prefix="tienda-e2e-ordering-"))
    env = worker_env(
        "billing",
        bootstrap_servers,
        f"sqlite+aiosqlite:///{data_dir / 'billing.db'}",
        api_tokens=f'{{"{TOKEN}": ["*"]}}',
        log_json="false",
        payment_match_grace_minutes=str(GRACE_SECONDS / 60),
        scheduler_interval_seconds="0.5",
    )
    worker = WorkerProcess("billing", env, data_dir / "billing.log")
    worker.start()
    yield worker
    worker.stop()
    print(f"--- billing log tail ---\n{worker.log_tail(15)}")


@pytest.fixture
async def billing(billing_worker: WorkerProcess, bootstrap_servers: str) -> AsyncIterator[Billing]:
    outcomes = Outcomes(bootstrap_servers)
    await outcomes.start()
    yield Billing(billing_worker, bootstrap_servers, outcomes)
    await outcomes.stop()


def assert_same(first: dict[str, Any], second: dict[str, Any]) -> None:
    for path in ENDPOINTS:
        assert first[path] == second[path], path


async def test_billing_data_and_a_card_before_or_after_the_plan_end_the_same(billing):
    anchor = fresh_anchor()
    before, after = account(), account()
    await billing.send(billing_data_submitted(before), card(before), plan_contracted(before, anchor=anchor))
    await billing.send(plan_contracted(after, anchor=anchor), billing_data_submitted(after), card(after))
    first, second = billing.state(before, {}), billing.state(after, {})
    assert_same(first, second)
    assert (first["balance"]["billing_data"]["version"], first["balance"]["card"]["last_four"]) == (1, "4242")
    assert first["balance"]["plan"]["renewal_anchor"] == anchor.isoformat()


async def test_charges_and_a_reduction_before_or_after_the_plan_end_the_same(billing):
    anchor = fresh_anchor()
    effective, renewal = anchor + timedelta(days=9), anchor + timedelta(days=31)
    await billing.send(uf_value(effective), uf_value(renewal))
    runs = []
    for plan_first in (False, True):
        account_id = account()
        online, at_renewal = str(uuid.uuid4()), str(uuid.uuid4())
        plan = plan_contracted(account_id, anchor=anchor)
        cart = [
            charge_scheduled(account_id, effective, (USERS, 2), mode=PaymentMode.ONLINE, activation_id=online),
            charge_scheduled(account_id, effective, (USERS, 3), activation_id=at_renewal),
            reduction_scheduled(account_id, "USR-EXTRA", 2, requested_on=effective),
        ]
        await billing.send(*([plan, *cart] if plan_first else [*cart, plan]))
        runs.append((account_id, {**activation_names(online), at_renewal: "AT-RENEWAL"}))
    await billing.renew(renewal)
    first, second = (billing.state(account_id, names) for account_id, names in runs)
    assert_same(first, second)
    [invoice, *_] = first["invoices"]["invoices"]
    assert [(line["kind"], line["quantity"]) for line in invoice["lines"]][:2] == [("plan", 1), ("addon", 3)]
    assert {c["status"] for c in first["charges"]["charges"]} == {"invoiced"}


async def test_a_payment_before_or_after_its_order_pays_it_the_same(billing):
    anchor = fresh_anchor()
    effective = anchor + timedelta(days=9)
    await billing.send(uf_value(effective))
    runs = []
    for paid_first in (True, False):
        account_id, activation = account(), str(uuid.uuid4())
        await billing.send(plan_contracted(account_id, anchor=anchor))
        cart = charge_scheduled(account_id, effective, (USERS, 2), mode=PaymentMode.ONLINE, activation_id=activation)
        paid = payment(account_id, ids.order_id(activation), 10_000, payment_id=f"wp-{account_id}")
        await billing.send(*([paid, cart] if paid_first else [cart, paid]))
        runs.append((account_id, {**activation_names(activation), f"wp-{account_id}": "PAYMENT"}))
    first, second = (billing.state(account_id, names) for account_id, names in runs)
    assert_same(first, second)
    [order] = first["orders"]["orders"]
    assert (order["status"], order["paid_clp"]) == ("partially_paid", 10_000)
    [recorded] = first["payments"]["payments"]
    assert (recorded["matched"], recorded["document_id"]) == (True, "ORDER")


async def test_a_payment_before_or_after_its_renewal_invoice_pays_it_the_same(billing):
    anchor = fresh_anchor()
    renewal = anchor + timedelta(days=31)
    await billing.send(uf_value(renewal))
    early, late = account(), account()
    await billing.send(plan_contracted(early, anchor=anchor), plan_contracted(late, anchor=anchor))
    await billing.send(payment(early, ids.renewal_invoice_id(early, renewal), 50_000, payment_id=f"wp-{early}"))
    await billing.renew(renewal)
    await billing.send(payment(late, ids.renewal_invoice_id(late, renewal), 50_000, payment_id=f"wp-{late}"))
    first, second = (
        billing.state(a, {ids.renewal_invoice_id(a, renewal): "INVOICE", f"wp-{a}": "PAYMENT"}) for a in (early, late)
    )
    assert_same(first, second)
    [invoice] = first["invoices"]["invoices"]
    assert (invoice["invoice_id"], invoice["status"], invoice["paid_clp"]) == ("INVOICE", "partially_paid", 50_000)


async def test_a_uf_value_before_or_after_the_order_that_needs_it_ends_the_same(billing):
    anchor = fresh_anchor()
    effective = anchor + timedelta(days=9)
    runs = []
    for uf_first in (False, True):  # the UF value arrives once: after the first order, before the second
        account_id, activation = account(), str(uuid.uuid4())
        await billing.send(plan_contracted(account_id, anchor=anchor))
        cart = charge_scheduled(account_id, effective, (USERS, 2), mode=PaymentMode.ONLINE, activation_id=activation)
        messages = [uf_value(effective), cart] if uf_first else [cart, uf_value(effective)]
        await billing.send(*messages)
        runs.append((account_id, activation_names(activation)))
    first, second = (billing.state(account_id, names) for account_id, names in runs)
    assert_same(first, second)
    [order] = first["orders"]["orders"]
    assert (order["status"], order["uf_date"]) == ("pending", effective.isoformat())
    assert order["total_clp"] > 0


async def test_a_card_before_or_after_the_renewal_invoice_is_asked_to_pay_it_the_same(billing):
    anchor = fresh_anchor()
    renewal = anchor + timedelta(days=31)
    early, late = account(), account()
    async with TopicReader(billing.bootstrap_servers, BILLING_EVENTS.name) as events:
        await billing.send(plan_contracted(early, anchor=anchor), plan_contracted(late, anchor=anchor))
        await billing.renew(renewal)  # held: no UF value for the date yet
        await billing.send(card(early), uf_value(renewal), card(late))

        async def requests() -> list[dict[str, Any]] | None:
            await events.poll()
            found = [m["payload"] for a in (early, late) for m in events.messages(a, "PaymentRequested")]
            return found if len(found) == 2 else None

        asked = await eventually(requests, what="a payment request for each account's invoice")
    assert [(r["attempt"], r["last_four"]) for r in asked] == [(1, "4242"), (1, "4242")]
    first, second = (billing.state(a, {ids.renewal_invoice_id(a, renewal): "INVOICE"}) for a in (early, late))
    assert_same(first, second)
    assert first["invoices"]["invoices"][0]["autopay"] == {"status": "requested", "attempts": 1}


async def test_a_suspension_before_or_after_a_payment_ends_the_same(billing):
    anchor = fresh_anchor()
    effective = anchor + timedelta(days=9)
    await billing.send(uf_value(effective))
    runs = []
    for suspended_first in (True, False):
        account_id, activation = account(), str(uuid.uuid4())
        cart = charge_scheduled(account_id, effective, (USERS, 2), mode=PaymentMode.ONLINE, activation_id=activation)
        await billing.send(plan_contracted(account_id, anchor=anchor), cart)
        suspension = new_envelope(
            AccountSuspended(reason="Facturas impagas"), account_id=account_id, producer="erp-web"
        )
        paid = payment(account_id, ids.order_id(activation), 10_000, payment_id=f"wp-{account_id}")
        await billing.send(*([suspension, paid] if suspended_first else [paid, suspension]))
        runs.append((account_id, {**activation_names(activation), f"wp-{account_id}": "PAYMENT"}))
    first, second = (billing.state(account_id, names) for account_id, names in runs)
    assert_same(first, second)
    assert first["balance"]["plan"]["suspended"] is True
    assert first["orders"]["orders"][0]["paid_clp"] == 10_000


async def test_a_payment_whose_document_never_comes_is_raised_after_the_grace_period_not_before(billing):
    account_id = account()
    await billing.send(plan_contracted(account_id, anchor=fresh_anchor()))
    paid = payment(account_id, ids.order_id(str(uuid.uuid4())), 15_000, payment_id=f"wp-{account_id}")
    async with TopicReader(billing.bootstrap_servers, BILLING_EVENTS.name) as events:
        await billing.send(paid)
        handled_at = datetime.fromisoformat((await billing.outcomes.of(paid))["occurred_at"])

        async def unmatched() -> list[dict[str, Any]]:
            await events.poll()
            return events.messages(account_id, "PaymentUnmatched")

        [raised] = await eventually(unmatched, timeout=60, what="PaymentUnmatched after the grace period")
    waited = datetime.fromisoformat(raised["occurred_at"]) - handled_at
    assert waited >= timedelta(seconds=GRACE_SECONDS - 0.5), waited
    assert raised["payload"]["payment_id"] == f"wp-{account_id}"
    [kept] = billing.worker.get(f"/accounts/{account_id}/payments", TOKEN)["payments"]
    assert (kept["matched"], kept["document_id"]) == (False, None)
