"""Carts and reductions that reach the store before their account's plan wait for it: handled in
arrival order when the plan comes, with the dates and prices they would have had after it, or
refused as unknown_account only after the wait; kept in the database, each request once."""

import asyncio
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from tests.harness import Harness, harness
from tests.samples import account, activation_requested
from tests.samples_store import account_reinstated, account_suspended, plan_contracted, reduction_requested
from tests.store.conftest import fresh, of_type, reasons
from tests.store.test_catalog import EXAMPLE, load
from tests.waiting import eventually
from tienda.messaging.database import create_engine
from tienda.messaging.http import TokenRing
from tienda.messaging.processor import Outcome
from tienda.store.adapters.catalog_file import read_catalog_file
from tienda.store.bootstrap import definition
from tienda.store.config import StoreSettings
from tienda.store.service_layer.scheduler import SchedulerPolicy, tick

DAY = timedelta(hours=24)
NOW = datetime(2026, 12, 3, 15, tzinfo=UTC)
TOKENS = TokenRing({"erp": ["*"]})


class SetClock:
    """The store's clock, set by the test; counts how often it was read."""

    def __init__(self, now: datetime) -> None:
        self.now, self.reads = now, 0

    def __call__(self) -> datetime:
        self.reads += 1
        return self.now


@pytest.fixture
def clock() -> SetClock:
    return SetClock(NOW)


@pytest.fixture
async def store(engine, clock) -> Harness:
    return await harness(definition(StoreSettings(), clock), engine)


def at(moment: datetime, envelope: Any) -> Any:
    return envelope.model_copy(update={"occurred_at": moment})


async def view(store: Harness, account_id: str) -> dict[str, Any]:
    async with store.http(TOKENS, {"Authorization": "Bearer erp"}) as client:
        response = await client.get(f"/accounts/{account_id}/plan")
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


async def end_state(store: Harness, account_id: str) -> dict[str, Any]:
    """The plan view without what differs between two accounts by nature (ids, moments of handling)."""
    document = await view(store, account_id)
    for activation in document["activations"]:
        del activation["activation_id"], activation["activated_at"]
    for reduction in document["pending_reductions"]:
        del reduction["reduction_id"]
    applied = [
        (row["request_id"], row["status"], row["applied_by_event_id"])
        for row in await store.rows("reductions")
        if row["account_id"] == account_id
    ]
    return {**document, "account_id": None, "applied_reductions": applied}


async def refuse_waited_too_long(store: Harness, clock: SetClock, at: datetime, wait: timedelta = DAY) -> int:
    clock.now = at
    return await tick(store.unit_of_work, SchedulerPolicy(wait=wait))


# --------------------------------------------------------------------------- waiting, then the plan


async def test_a_cart_before_its_plan_waits_visibly_and_is_activated_when_the_plan_arrives(store, clock):
    account_id = account()
    cart = activation_requested(account_id, ("USR-EXTRA", 3), request_id="req-primera-compra")
    assert await store.deliver(cart) is Outcome.PROCESSED
    assert await fresh(store) == []
    [waiting] = (await view(store, account_id))["waiting_for_plan"]
    assert (waiting["kind"], waiting["request_id"], waiting["payment_mode"]) == (
        "cart",
        "req-primera-compra",
        "at_renewal",
    )
    assert [(line["sku"], line["quantity"]) for line in waiting["lines"]] == [("USR-EXTRA", 3)]
    assert datetime.fromisoformat(waiting["refused_after"]) == NOW + DAY

    assert await store.deliver(plan_contracted(account_id)) is Outcome.PROCESSED
    completed, charge, snapshot = await fresh(store)
    assert (completed["type"], charge["type"], snapshot["type"]) == (
        "ActivationCompleted",
        "ChargeScheduled",
        "PlanSnapshot",
    )
    assert charge["causation_id"] == str(cart.event_id)
    assert charge["correlation_id"] == str(cart.correlation_id)
    assert snapshot["payload"]["counts"]["users"] == 3
    after = await view(store, account_id)
    assert (after["waiting_for_plan"], after["entitlements"]) == ([], {"users": 3})
    assert await store.rows("waiting_requests") == []


async def test_a_cart_before_its_plan_ends_as_it_would_have_after_it(store):
    plan_time, cart_time = NOW, NOW + timedelta(seconds=1)
    states = []
    for cart_first in (True, False):
        account_id = account()
        plan = at(plan_time, plan_contracted(account_id, "PYME-PLUS", included={"users": 5}, modules=["inventory"]))
        cart = at(cart_time, activation_requested(account_id, ("USR-EXTRA", 2), ("MOD-BI", 1), request_id="req-1"))
        for message in (cart, plan) if cart_first else (plan, cart):
            await store.deliver(message)
        states.append(await end_state(store, account_id))
    assert states[0] == states[1]
    assert states[0]["entitlements"] == {"users": 7, "module:bi": 1, "module:inventory": 1}
    assert states[0]["revision"] == 2


async def test_a_cart_that_waited_takes_effect_on_its_day_or_the_plans_whichever_is_later(store):
    """The catalog of 2026-12 raises USR-EXTRA from 0.5000 to 0.5500 on 1 December: a cart of
    30 November whose account's plan was contracted on 1 December is priced and prorated from
    1 December, in either order of arrival; a cart of 2 December from its own day."""
    await load(store, read_catalog_file(EXAMPLE))
    november_30 = datetime(2026, 11, 30, 15, tzinfo=UTC)
    december_1 = datetime(2026, 12, 1, 15, tzinfo=UTC)
    december_2 = datetime(2026, 12, 2, 15, tzinfo=UTC)
    for cart_time, day, price in ((november_30, "2026-12-01", "0.5500"), (december_2, "2026-12-02", "0.5500")):
        for cart_first in (True, False):
            account_id = account()
            plan = at(december_1, plan_contracted(account_id))
            cart = at(cart_time, activation_requested(account_id, ("USR-EXTRA", 1)))
            for message in (cart, plan) if cart_first else (plan, cart):
                await store.deliver(message)
            [charge] = of_type(await fresh(store), "ChargeScheduled")
            assert (charge["payload"]["effective_date"], charge["payload"]["lines"][0]["unit_price_uf"]) == (day, price)


async def test_carts_that_waited_are_activated_in_the_order_they_arrived(store):
    """Business Intelligence needs Inventory: in any other order the second cart would be refused."""
    account_id = account()
    await store.deliver(activation_requested(account_id, ("MOD-INV", 1), request_id="req-inventario"))
    await store.deliver(activation_requested(account_id, ("MOD-BI", 1), request_id="req-bi"))
    await store.deliver(activation_requested(account_id, ("USR-EXTRA", 1), request_id="req-usuario"))
    assert [w["request_id"] for w in (await view(store, account_id))["waiting_for_plan"]] == [
        "req-inventario",
        "req-bi",
        "req-usuario",
    ]
    await store.deliver(plan_contracted(account_id, "PYME-PLUS"))
    completed = of_type(await fresh(store), "ActivationCompleted")
    assert [message["payload"]["request_id"] for message in completed] == ["req-inventario", "req-bi", "req-usuario"]


async def test_a_cart_that_waited_and_breaks_a_rule_of_the_plan_is_refused_when_the_plan_arrives(store):
    account_id = account()
    await store.deliver(activation_requested(account_id, ("RSO-EXTRA", 1), request_id="req-razon-social"))
    assert await store.deliver(plan_contracted(account_id, "EMPRENDE")) is Outcome.PROCESSED
    [rejected] = of_type(await fresh(store), "ActivationRejected")
    assert reasons(rejected) == [(1, "not_sold_to_plan")]
    assert store.counters.rejected == 0  # the PlanContracted itself was processed, not rejected


async def test_a_cart_waits_once_per_event_id_and_once_per_request_id(store):
    account_id = account()
    cart = activation_requested(account_id, ("USR-EXTRA", 2), request_id="req-doble-clic")
    resent = activation_requested(account_id, ("USR-EXTRA", 2), request_id="req-doble-clic")
    assert [await store.deliver(cart), await store.deliver(cart), await store.deliver(resent)] == [
        Outcome.PROCESSED,
        Outcome.DEDUPLICATED,
        Outcome.PROCESSED,
    ]
    assert len(await store.rows("waiting_requests")) == 1
    await store.deliver(plan_contracted(account_id))
    assert len(of_type(await fresh(store), "ChargeScheduled")) == 1
    await store.deliver(resent)
    assert of_type(await fresh(store), "ChargeScheduled") == []
    assert (await view(store, account_id))["entitlements"] == {"users": 2}


async def test_a_cart_and_its_plan_in_one_batch_are_handled_as_in_order(store):
    account_id = account()
    outcomes = await store.deliver_batch(
        [activation_requested(account_id, ("USR-EXTRA", 1)), plan_contracted(account_id)]
    )
    assert outcomes == [Outcome.PROCESSED, Outcome.PROCESSED]
    assert len(of_type(await fresh(store), "ActivationCompleted")) == 1


async def test_what_waits_survives_a_restart_of_the_store(store, engine, clock):
    account_id = account()
    await store.deliver(activation_requested(account_id, ("DTE-100", 2)))
    await store.engine.dispose()
    restarted_engine = create_engine(engine.url.render_as_string(hide_password=False))
    try:
        restarted = await harness(definition(StoreSettings(), clock), restarted_engine)
        assert [w["kind"] for w in (await view(restarted, account_id))["waiting_for_plan"]] == ["cart"]
        await restarted.deliver(plan_contracted(account_id))
        assert (await view(restarted, account_id))["entitlements"] == {"dte_monthly": 200}
    finally:
        await restarted_engine.dispose()


async def test_a_cart_and_the_first_plan_handled_at_the_same_time_end_activated(store, engine, clock):
    """Two instances of the store: one sets the cart aside while the other creates the account.
    Neither leaves the cart waiting behind a plan it did not see."""
    second = await harness(definition(StoreSettings(), clock), engine)
    accounts = [account() for _ in range(30)]
    for account_id in accounts:
        cart, plan = activation_requested(account_id, ("USR-EXTRA", 1)), plan_contracted(account_id)
        await asyncio.gather(store.deliver(cart), second.deliver(plan))
    assert await store.rows("waiting_requests") == []
    assert len(await store.rows("activations")) == len(accounts)


# --------------------------------------------------------------------------- reductions


async def test_a_reduction_behind_a_cart_waits_with_it_and_follows_it(store):
    account_id = account()
    plan = at(NOW, plan_contracted(account_id, "PYME", included={"users": 5}))
    cart = at(NOW + timedelta(minutes=1), activation_requested(account_id, ("USR-EXTRA", 4), request_id="req-4"))
    reduction = at(NOW + timedelta(minutes=2), reduction_requested(account_id, ("USR-EXTRA", 1), request_id="red-1"))
    for message in (cart, reduction):
        await store.deliver(message)
    assert [w["kind"] for w in (await view(store, account_id))["waiting_for_plan"]] == ["cart", "reduction"]
    await store.deliver(plan)
    messages = await fresh(store)
    assert [m["type"] for m in messages if m["type"] != "PlanSnapshot"] == [
        "ActivationCompleted",
        "ChargeScheduled",
        "ReductionScheduled",
    ]
    state = await view(store, account_id)
    assert (state["entitlements"], [r["request_id"] for r in state["pending_reductions"]]) == ({"users": 9}, ["red-1"])


@pytest.mark.parametrize("reduction_first", [True, False])
async def test_a_reduction_that_reaches_the_store_after_the_renewal_it_preceded_is_applied_by_it(
    store, reduction_first
):
    account_id = account()
    await store.deliver(at(NOW, plan_contracted(account_id, "PYME", included={"users": 5})))
    await store.deliver(at(NOW, activation_requested(account_id, ("USR-EXTRA", 4))))
    reduction = at(NOW + timedelta(hours=1), reduction_requested(account_id, ("USR-EXTRA", 3), request_id="red-3"))
    renewal = at(NOW + timedelta(hours=2), plan_contracted(account_id, "PYME", included={"users": 5}))
    for message in (reduction, renewal) if reduction_first else (renewal, reduction):
        await store.deliver(message)
    state = await view(store, account_id)
    assert (state["entitlements"], state["pending_reductions"]) == ({"users": 6}, [])
    [row] = await store.rows("reductions")
    assert (row["status"], row["applied_by_event_id"]) == ("applied", str(renewal.event_id))


async def test_a_reduction_requested_after_the_latest_plan_still_waits_for_the_next_renewal(store):
    account_id = account()
    await store.deliver(at(NOW, plan_contracted(account_id, "PYME")))
    await store.deliver(at(NOW, activation_requested(account_id, ("USR-EXTRA", 4))))
    await store.deliver(at(NOW + timedelta(hours=1), reduction_requested(account_id, ("USR-EXTRA", 3))))
    state = await view(store, account_id)
    assert (state["entitlements"], len(state["pending_reductions"])) == ({"users": 4}, 1)


# --------------------------------------------------------------------------- suspension and reinstatement


@pytest.mark.parametrize("cart_first", [True, False])
async def test_a_cart_activated_before_a_suspension_stands_whichever_reaches_the_store_first(store, cart_first):
    account_id = account()
    await store.deliver(at(NOW, plan_contracted(account_id)))
    cart = at(NOW + timedelta(minutes=1), activation_requested(account_id, ("USR-EXTRA", 1)))
    suspension = at(NOW + timedelta(minutes=2), account_suspended(account_id, "Facturas impagas"))
    for message in (cart, suspension) if cart_first else (suspension, cart):
        await store.deliver(message)
    state = await view(store, account_id)
    assert (state["entitlements"], state["plan"]["status"]) == ({"users": 1}, "suspended")


@pytest.mark.parametrize("cart_first", [True, False])
async def test_a_cart_made_while_suspended_is_refused_whichever_reaches_the_store_first(store, cart_first):
    account_id = account()
    await store.deliver(at(NOW, plan_contracted(account_id)))
    await store.deliver(at(NOW + timedelta(minutes=1), account_suspended(account_id, "Facturas impagas")))
    cart = at(NOW + timedelta(minutes=2), activation_requested(account_id, ("USR-EXTRA", 1)))
    reinstatement = at(NOW + timedelta(minutes=3), account_reinstated(account_id))
    for message in (cart, reinstatement) if cart_first else (reinstatement, cart):
        await store.deliver(message)
    [rejected] = of_type(await fresh(store), "ActivationRejected")
    assert reasons(rejected) == [(None, "account_suspended")]
    assert "Facturas impagas" in rejected["payload"]["reasons"][0]["message"]
    state = await view(store, account_id)
    assert (state["entitlements"], state["plan"]["status"]) == ({}, "active")


# --------------------------------------------------------------------------- refused after the wait


async def test_a_cart_whose_plan_never_comes_is_refused_only_after_the_wait(store, clock):
    account_id = account()
    await store.deliver(activation_requested(account_id, ("USR-EXTRA", 1), ("USR-GOLD", 1), request_id="req-sin-plan"))
    assert await refuse_waited_too_long(store, clock, NOW + DAY - timedelta(seconds=1)) == 0
    assert await fresh(store) == []
    assert await refuse_waited_too_long(store, clock, NOW + DAY) == 1
    [rejected] = await fresh(store)
    assert (rejected["type"], rejected["payload"]["request_id"]) == ("ActivationRejected", "req-sin-plan")
    assert reasons(rejected) == [(None, "unknown_account"), (2, "unknown_sku")]
    assert datetime.fromisoformat(rejected["occurred_at"]) == NOW + DAY
    assert (await view(store, account_id))["waiting_for_plan"] == []

    await store.deliver(plan_contracted(account_id))
    assert of_type(await fresh(store), "ActivationCompleted") == []


async def test_a_reduction_whose_plan_never_comes_is_refused_after_the_wait(store, clock):
    account_id = account()
    await store.deliver(reduction_requested(account_id, ("USR-EXTRA", 1), request_id="red-sin-plan"))
    await refuse_waited_too_long(store, clock, NOW + DAY)
    [rejected] = await fresh(store)
    assert (rejected["type"], reasons(rejected)) == ("ReductionRejected", [(None, "unknown_account")])


async def test_the_wait_is_counted_from_when_each_request_reached_the_store(store, clock):
    early, late = account(), account()
    await store.deliver(activation_requested(early, ("USR-EXTRA", 1)))
    clock.now = NOW + timedelta(hours=12)
    await store.deliver(activation_requested(late, ("USR-EXTRA", 1)))
    await refuse_waited_too_long(store, clock, NOW + DAY)
    assert [m["account_id"] for m in await fresh(store)] == [early]
    await refuse_waited_too_long(store, clock, NOW + DAY + timedelta(hours=12))
    assert [m["account_id"] for m in await fresh(store)] == [late]


async def test_a_request_refused_after_the_wait_and_sent_again_waits_again(store, clock):
    account_id = account()
    await store.deliver(activation_requested(account_id, ("USR-EXTRA", 1), request_id="req-otra-vez"))
    await refuse_waited_too_long(store, clock, NOW + DAY)
    await store.deliver(activation_requested(account_id, ("USR-EXTRA", 1), request_id="req-otra-vez"))
    await store.deliver(plan_contracted(account_id))
    assert [m["type"] for m in await fresh(store) if m["type"] != "PlanSnapshot"] == [
        "ActivationRejected",
        "ActivationCompleted",
        "ChargeScheduled",
    ]


async def test_many_requests_that_waited_too_long_are_all_refused_in_one_round(store, clock):
    accounts = [account() for _ in range(450)]
    await store.deliver_batch([activation_requested(account_id, ("USR-EXTRA", 1)) for account_id in accounts])
    assert await refuse_waited_too_long(store, clock, NOW + DAY) == len(accounts)
    assert {m["account_id"] for m in of_type(await fresh(store), "ActivationRejected")} == set(accounts)


async def test_the_worker_refuses_with_the_wait_and_interval_of_its_settings(engine, clock):
    """With the defaults (24 h, 60 s) nothing would be refused within this test."""
    worker = definition(StoreSettings(unknown_account_wait_seconds=90, scheduler_interval_seconds=0.01), clock)
    store = await harness(worker, engine)
    account_id = account()
    await store.deliver(activation_requested(account_id, ("USR-EXTRA", 1)))
    [scheduler] = worker.background
    reads = clock.reads
    task = asyncio.create_task(scheduler(SimpleNamespace(unit_of_work=store.unit_of_work)))  # type: ignore[arg-type]
    try:
        await eventually(lambda: _read_since(clock, reads), timeout=5, what="the scheduler's first round")
        assert await store.relay() == []  # the first round, before the wait was over, refused nothing
        clock.now = NOW + timedelta(seconds=90)  # the next round comes after the interval of the settings
        rejected = await eventually(
            lambda: _rejections(store), timeout=5, what="the cart refused by the worker's scheduler"
        )
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert [m["account_id"] for m in rejected] == [account_id]


async def _read_since(clock: SetClock, reads: int) -> bool:
    return clock.reads > reads


async def _rejections(store: Harness) -> list[dict[str, Any]]:
    return of_type(await store.relay(), "ActivationRejected")
