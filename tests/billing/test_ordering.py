"""Order across topics (issue 16): for every pair of messages billing reads from different topics
whose order matters for one account, the pair handled in both orders ends in the same state.

Each order runs on its own fresh database (of the same backend) with the very same messages,
so the two end states must be equal field for field: every read endpoint's answer, the rows
that no endpoint shows (autopay requests, reductions), and the business messages published
(their payloads; snapshots and alerts by kind). tests/e2e/test_billing_ordering.py publishes
the same pairs on a real broker to the worker process."""

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from tests.billing.conftest import (
    DTE_100,
    USERS,
    Billing,
    billing_data_submitted,
    card_subscribed,
    charge_scheduled,
    payloads,
    payment,
    plan_contracted,
    reduction_scheduled,
    uf_published,
)
from tests.conftest import sqlite_url
from tests.harness import harness
from tienda.billing.bootstrap import definition
from tienda.billing.config import BillingSettings
from tienda.billing.domain import ids
from tienda.contracts.envelope import Envelope, new_envelope
from tienda.contracts.messages.plans import AccountSuspended
from tienda.contracts.types import PaymentMode
from tienda.messaging.database import create_engine
from tienda.messaging.http import TokenRing

ACCOUNT = "acc-ferreteria-rojas"
ACTIVATION = "2b0c4a7e-9c1f-4f7e-8a57-3f1e2d9b6c10"
ORDER = ids.order_id(ACTIVATION)
ORDER_TOTAL = 29_930  # 2 users from 10 Feb 2027 at 39,123.45: net 25,151 + IVA 4,779
RENEWAL = date(2027, 2, 28)
RENEWAL_INVOICE = ids.renewal_invoice_id(ACCOUNT, RENEWAL)
RENEWAL_TOTAL = 116_620  # the Pyme plan, 2.5 UF at 39,200 + IVA
TOKENS = TokenRing({"ops": ["*"]})
VOLATILE = {"as_of", "revision", "requested_at", "event_id", "occurred_at", "causation_id", "correlation_id"}

Step = Callable[[Billing], Awaitable[Any]]


def deliver(*envelopes: Envelope[Any]) -> Step:
    async def step(billing: Billing) -> None:
        await billing.deliver(*envelopes)

    return step


def renew(on: date) -> Step:
    async def step(billing: Billing) -> None:
        await billing.renew(on)

    return step


@dataclass
class Fresh:
    """Fresh billings on new databases of the backend under test."""

    database_url: str
    request: pytest.FixtureRequest
    tmp_path: Any
    engines: list[Any]

    async def billing(self) -> Billing:
        if self.database_url.startswith("sqlite"):
            directory = self.tmp_path / f"db{len(self.engines)}"
            directory.mkdir()
            url = sqlite_url(directory)
        else:
            url = self.request.getfixturevalue("postgres").create_database(f"t_{uuid.uuid4().hex[:12]}")
        engine = create_engine(url)
        self.engines.append(engine)
        return Billing(await harness(definition(BillingSettings()), engine))


@pytest.fixture
async def fresh(database_url, request, tmp_path):
    made = Fresh(database_url, request, tmp_path, [])
    yield made
    for engine in made.engines:
        await engine.dispose()


async def end_state(billing: Billing) -> dict[str, Any]:
    """What the account looks like from outside (every endpoint) and inside (rows no endpoint shows)."""
    state: dict[str, Any] = {}
    async with billing.h.http(TOKENS, headers={"Authorization": "Bearer ops"}) as http:
        for path in ("charges", "payments", "orders", "orders/pending", "invoices", "balance"):
            response = await http.get(f"/accounts/{ACCOUNT}/{path}")
            assert response.status_code == 200, path
            state[path] = response.json()
    state["payment_requests"] = sorted(
        (r["invoice_id"], r["attempt"], r["amount_clp"]) for r in await billing.rows("payment_requests")
    )
    state["reductions"] = sorted(
        (r["sku"], r["quantity"], r["activation_id"], r["effective_from"]) for r in await billing.rows("reductions")
    )
    published = await billing.h.relay()
    state["events"] = sorted(
        (m["type"], _without_volatile(m["payload"]))
        for m in published
        if m["type"] not in ("BillingSnapshot", "OperationsAlert")
    )
    state["alerts"] = sorted(m["payload"]["kind"] for m in published if m["type"] == "OperationsAlert")
    return state


def _without_volatile(payload: Any) -> str:
    if isinstance(payload, dict):
        return repr({key: _without_volatile(value) for key, value in payload.items() if key not in VOLATILE})
    return repr(payload)


async def both_orders(
    fresh: Fresh,
    first: Step,
    second: Step,
    *,
    before: Sequence[Step] = (),
    after: Sequence[Step] = (),
    same_messages: bool = True,
) -> dict[str, Any]:
    """``first`` then ``second`` on one database, ``second`` then ``first`` on another (each after
    ``before`` and followed by ``after``): the two end states, asserted equal; one of them. With
    ``same_messages`` False the messages published are the same kinds, but their payloads may say
    what was true when they were sent (a payment recorded on a held order says "held")."""
    states = []
    for pair in ((first, second), (second, first)):
        billing = await fresh.billing()
        for step in (*before, *pair, *after):
            await step(billing)
        states.append(await end_state(billing))
    in_order, reversed_order = states
    if not same_messages:
        for state in states:
            state["events"] = [kind for kind, _ in state["events"]]
    for key in in_order:
        assert in_order[key] == reversed_order[key], key
    return in_order


PLAN = plan_contracted(ACCOUNT, on=date(2027, 2, 1))
UF_10_FEB = uf_published(date(2027, 2, 10), "39123.45")
UF_RENEWAL = uf_published(RENEWAL, "39200.00")
ONLINE_CART = charge_scheduled(
    ACCOUNT, date(2027, 2, 10), (USERS, 2), mode=PaymentMode.ONLINE, activation_id=ACTIVATION
)
RENEWAL_CART = charge_scheduled(ACCOUNT, date(2027, 2, 12), (DTE_100, 1))
THREE_USERS = charge_scheduled(ACCOUNT, date(2027, 2, 10), (USERS, 3))
CARD = card_subscribed(ACCOUNT)
DATA = billing_data_submitted(ACCOUNT, submission_id="sub-ordering")
SUSPENDED = new_envelope(AccountSuspended(reason="Facturas impagas"), account_id=ACCOUNT, producer="erp-web")


async def test_billing_data_before_or_after_the_plan_is_printed_on_the_first_invoice(fresh):
    state = await both_orders(fresh, deliver(PLAN), deliver(DATA), before=[deliver(UF_RENEWAL)], after=[renew(RENEWAL)])
    [invoice] = state["invoices"]["invoices"]
    assert invoice["billing_data_version"] == 1
    assert state["balance"]["billing_data"]["rut"] == "76.086.428-5"
    assert state["alerts"] == []


async def test_a_card_before_or_after_the_plan_is_asked_to_pay_the_first_renewal(fresh):
    state = await both_orders(fresh, deliver(PLAN), deliver(CARD), before=[deliver(UF_RENEWAL)], after=[renew(RENEWAL)])
    assert state["payment_requests"] == [(RENEWAL_INVOICE, 1, RENEWAL_TOTAL)]
    assert state["balance"]["card"]["last_four"] == "4242"


async def test_charges_before_or_after_the_plan_are_placed_in_the_same_periods_and_order(fresh):
    state = await both_orders(
        fresh, deliver(PLAN), deliver(ONLINE_CART, RENEWAL_CART), before=[deliver(UF_10_FEB)], after=[renew(RENEWAL)]
    )
    statuses = {c["sku"]: (c["status"], c["period_start"]) for c in state["charges"]["charges"]}
    assert statuses == {"USR-EXTRA": ("invoiced", "2027-01-31"), "DTE-100": ("invoiced", "2027-01-31")}
    [order] = state["orders"]["orders"]
    assert (order["order_id"], order["total_clp"], order["status"]) == (ORDER, ORDER_TOTAL, "carried")
    assert state["balance"]["charges_waiting_for_plan"] == 0


async def test_a_reduction_before_the_plan_lowers_the_same_renewal_as_after_it(fresh):
    state = await both_orders(
        fresh,
        deliver(PLAN),
        deliver(THREE_USERS, reduction_scheduled(ACCOUNT, "USR-EXTRA", 2)),
        before=[deliver(UF_10_FEB, UF_RENEWAL, uf_published(date(2027, 3, 31), "39250.00"))],
        after=[renew(date(2027, 3, 31))],
    )
    assert state["reductions"] == [("USR-EXTRA", 2, str(THREE_USERS.payload.activation_id), RENEWAL)]
    march = next(i for i in state["invoices"]["invoices"] if i["period_start"] == "2027-03-31")
    assert [(line["kind"], line["quantity"]) for line in march["lines"]] == [("plan", 1), ("addon", 1)]
    assert state["alerts"] == ["billing_data_missing", "billing_data_missing"]


async def test_a_payment_quoting_an_order_billing_has_not_created_yet_pays_it_when_it_appears(fresh):
    paid = payment(ACCOUNT, ORDER, ORDER_TOTAL, payment_id="wp-before-order")
    state = await both_orders(fresh, deliver(ONLINE_CART), deliver(paid), before=[deliver(UF_10_FEB, PLAN)])
    [order] = state["orders"]["orders"]
    assert (order["status"], order["invoice_id"]) == ("paid", ids.order_invoice_id(ORDER))
    [recorded] = state["payments"]["payments"]
    assert (recorded["matched"], recorded["document_id"], recorded["applied_clp"]) == (True, ORDER, ORDER_TOTAL)
    assert [kind for kind, _ in state["events"]] == ["InvoiceIssued", "OrderCreated", "PaymentRecorded"]
    assert state["alerts"] == ["billing_data_missing"]


async def test_a_payment_quoting_the_renewal_invoice_before_renewal_pays_it_when_it_is_issued(fresh):
    paid = payment(ACCOUNT, RENEWAL_INVOICE, 100_000, payment_id="wp-before-renewal")
    state = await both_orders(fresh, renew(RENEWAL), deliver(paid), before=[deliver(UF_RENEWAL, PLAN)])
    [invoice] = state["invoices"]["invoices"]
    assert (invoice["status"], invoice["paid_clp"], invoice["amount_due_clp"]) == ("partially_paid", 100_000, 16_620)
    assert state["balance"]["balance_due_clp"] == 16_620


async def test_a_uf_value_before_or_after_the_order_that_needs_it_gives_the_same_order(fresh):
    state = await both_orders(fresh, deliver(ONLINE_CART), deliver(UF_10_FEB), before=[deliver(PLAN)])
    [order] = state["orders"]["orders"]
    assert (order["status"], order["total_clp"], order["clp_per_uf"]) == ("pending", ORDER_TOTAL, "39123.45")


async def test_a_uf_value_before_or_after_the_renewal_gives_the_same_invoice(fresh):
    state = await both_orders(fresh, renew(RENEWAL), deliver(UF_RENEWAL), before=[deliver(PLAN)])
    [invoice] = state["invoices"]["invoices"]
    assert (invoice["status"], invoice["total_clp"]) == ("pending", RENEWAL_TOTAL)


async def test_a_payment_before_or_after_the_uf_value_of_its_held_order_settles_it_the_same(fresh):
    paid = payment(ACCOUNT, ORDER, 30_000, payment_id="wp-held")
    state = await both_orders(
        fresh, deliver(paid), deliver(UF_10_FEB), before=[deliver(PLAN, ONLINE_CART)], same_messages=False
    )
    [order] = state["orders"]["orders"]
    assert (order["status"], order["paid_clp"]) == ("paid", ORDER_TOTAL)
    assert state["balance"]["credit_clp"] == 30_000 - ORDER_TOTAL


async def test_a_card_subscribed_after_the_invoice_was_issued_is_asked_to_pay_it_as_if_it_had_been_there(fresh):
    state = await both_orders(fresh, deliver(CARD), deliver(UF_RENEWAL), before=[deliver(PLAN), renew(RENEWAL)])
    assert state["payment_requests"] == [(RENEWAL_INVOICE, 1, RENEWAL_TOTAL)]
    [invoice] = state["invoices"]["invoices"]
    assert invoice["autopay"] == {"status": "requested", "attempts": 1}


async def test_a_suspension_before_or_after_a_payment_leaves_the_payment_applied(fresh):
    paid = payment(ACCOUNT, ORDER, ORDER_TOTAL, payment_id="wp-suspended")
    state = await both_orders(fresh, deliver(SUSPENDED), deliver(paid), before=[deliver(UF_10_FEB, PLAN, ONLINE_CART)])
    assert state["balance"]["plan"]["suspended"] is True
    assert (state["balance"]["balance_due_clp"], state["orders"]["orders"][0]["status"]) == (0, "paid")


async def test_a_suspension_before_or_after_the_renewal_leaves_the_renewal_issued(fresh):
    state = await both_orders(fresh, deliver(SUSPENDED), renew(RENEWAL), before=[deliver(UF_RENEWAL, PLAN)])
    assert state["balance"]["plan"]["suspended"] is True
    assert [i["invoice_id"] for i in state["invoices"]["invoices"]] == [RENEWAL_INVOICE]


# --- the grace period of a payment that waits for its document ----------------------------------


async def test_a_payment_waiting_for_its_order_is_raised_as_unmatched_only_after_the_grace_period(billing):
    account_id = await billing.customer()
    awaited = ids.order_id("7c1d5b8f-0000-4000-8000-000000000001")
    await billing.deliver(payment(account_id, awaited, 15_000, payment_id="wp-awaiting"))
    assert [m["type"] for m in await billing.fresh()] == ["BillingSnapshot"]
    [kept] = await billing.rows("payments", payment_id="wp-awaiting")
    now = kept["recorded_at"]

    await billing.tick(now + timedelta(hours=23))
    assert [m["type"] for m in await billing.fresh()] == []
    await billing.tick(now + timedelta(hours=25))
    messages = await billing.fresh()
    [unmatched] = payloads(messages, "PaymentUnmatched")
    [alert] = payloads(messages, "OperationsAlert")
    assert (unmatched["payment_id"], unmatched["reference"], unmatched["amount_clp"]) == (
        "wp-awaiting",
        awaited,
        15_000,
    )
    assert (alert["kind"], alert["details"]["payment_id"]) == ("payment_unmatched", "wp-awaiting")
    assert "waited 24 h" in alert["summary"]
    await billing.tick(now + timedelta(hours=48))
    assert await billing.fresh() == []


async def test_the_grace_period_is_a_setting(billing):
    billing.policy = billing.policy.__class__(payment_match_grace=timedelta(minutes=30))
    account_id = await billing.customer()
    await billing.deliver(payment(account_id, ids.order_id("7c1d5b8f-0000-4000-8000-000000000002"), 9_000))
    await billing.fresh()
    await billing.tick(datetime.now(UTC) + timedelta(minutes=31))
    assert len(payloads(await billing.fresh(), "PaymentUnmatched")) == 1


def test_the_grace_period_setting_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("TIENDA_BILLING_PAYMENT_MATCH_GRACE_MINUTES", "90")
    assert BillingSettings().payment_match_grace == timedelta(minutes=90)
    assert BillingSettings.model_fields["payment_match_grace_minutes"].default == 24 * 60


async def test_an_order_that_appears_after_the_grace_period_is_still_paid_by_the_payment(billing):
    await billing.deliver(UF_10_FEB)
    account_id = await billing.customer()
    activation = "7c1d5b8f-0000-4000-8000-000000000003"
    await billing.deliver(payment(account_id, ids.order_id(activation), ORDER_TOTAL, payment_id="wp-late-order"))
    await billing.tick(datetime.now(UTC) + timedelta(days=2))
    assert len(payloads(await billing.fresh(), "PaymentUnmatched")) == 1
    await billing.deliver(
        charge_scheduled(account_id, date(2027, 2, 10), (USERS, 2), mode=PaymentMode.ONLINE, activation_id=activation)
    )
    [recorded] = payloads(await billing.fresh(), "PaymentRecorded")
    assert (recorded["payment_id"], recorded["document_status"]) == ("wp-late-order", "paid")


@pytest.mark.parametrize(
    "reference",
    ["ORD-NO-EXISTE", "INV-20270228-000000000000", "INV-20270231-3FA9C2D41B07", "factura 123"],
)
async def test_a_reference_billing_can_never_create_for_the_account_is_raised_at_once(billing, reference):
    account_id = await billing.customer()
    await billing.deliver(payment(account_id, reference, 5_000))
    assert len(payloads(await billing.fresh(), "PaymentUnmatched")) == 1


def test_only_ids_billing_derives_for_the_account_could_still_name_one_of_its_documents():
    account_id = "acc-ferreteria-rojas"
    assert ids.could_name_document(account_id, ORDER)
    assert ids.could_name_document(account_id, ids.order_invoice_id(ORDER))
    assert ids.could_name_document(account_id, ids.renewal_invoice_id(account_id, date(2027, 2, 28)))
    assert not ids.could_name_document("acc-panaderia-soto", ids.renewal_invoice_id(account_id, date(2027, 2, 28)))
    assert not ids.could_name_document(account_id, "ORD-2b0c4a7e9c1f")
    assert not ids.could_name_document(account_id, "INV-20270230-" + RENEWAL_INVOICE[-12:])
