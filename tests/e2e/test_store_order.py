"""The store on the real broker when its two topics arrive in either order: carts published before
their plans are activated, not refused; and for every pair of messages whose order matters to one
account (README, "Ordering"), both orders of handling end in the same plan view.

Each test waits until the store has handled the first messages (their outcomes on
tienda.ops.outcomes) before it publishes the second, so the order of handling is the one named."""

import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.kafka_client import TopicReader, kcat_publish_many
from tests.samples import account, activation_requested
from tests.samples_store import account_reinstated, account_suspended, plan_contracted, reduction_requested
from tests.waiting import eventually
from tienda.contracts.business_day import business_date
from tienda.contracts.envelope import Envelope
from tienda.contracts.topics import ACCOUNT_PLANS, ACTIVATION_REQUESTS, OPERATIONS_OUTCOMES, STORE_EVENTS
from tienda.messaging.codec import encode

pytestmark = pytest.mark.broker

PAIRS = 300
ON_TOPIC = {
    "ActivationRequested": ACTIVATION_REQUESTS.name,
    "ReductionRequested": ACTIVATION_REQUESTS.name,
    "PlanContracted": ACCOUNT_PLANS.name,
    "AccountSuspended": ACCOUNT_PLANS.name,
    "AccountReinstated": ACCOUNT_PLANS.name,
}


class Outcomes(TopicReader):
    """What the store made of each message, read from tienda.ops.outcomes."""

    def __init__(self, bootstrap_servers: str) -> None:
        super().__init__(bootstrap_servers, OPERATIONS_OUTCOMES.name)

    async def handled(self, messages: Sequence[Envelope[Any]], timeout: float = 60) -> dict[str, str]:
        """Wait until the store handled every message; the result of each, by event id."""
        wanted = {str(message.event_id) for message in messages}

        async def probe() -> dict[str, str] | None:
            await self.poll()
            results = {
                outcome["payload"]["handled_event_id"]: outcome["payload"]["result"]
                for outcome in self.messages()
                if outcome["payload"]["service"] == "store" and outcome["payload"]["handled_event_id"] in wanted
            }
            return results if len(results) == len(wanted) else None

        return await eventually(probe, timeout=timeout, what=f"the store's outcome of {len(wanted)} message(s)")


def publish(bootstrap_servers: str, messages: Sequence[Envelope[Any]]) -> None:
    """With kcat, each message on its topic, in order within each topic."""
    for topic in dict.fromkeys(ON_TOPIC[message.type] for message in messages):
        mine = [(m.account_id, encode(m)) for m in messages if ON_TOPIC[m.type] == topic]
        kcat_publish_many(bootstrap_servers, topic, mine)


async def handle_in_order(bootstrap_servers: str, outcomes: Outcomes, *groups: Sequence[Envelope[Any]]) -> None:
    """Publish each group once the store has handled the one before."""
    for group in groups:
        publish(bootstrap_servers, group)
        await outcomes.handled(group)


def end_state(workers: Any, account_id: str) -> dict[str, Any]:
    """The store's plan view without what differs between two accounts by nature."""
    view: dict[str, Any] = workers.get_json("store", f"/accounts/{account_id}/plan")
    for activation in view["activations"]:
        del activation["activation_id"], activation["activated_at"]
    for reduction in view["pending_reductions"]:
        del reduction["reduction_id"]
    return {**view, "account_id": None}


@pytest.fixture
async def outcomes(bootstrap_servers):
    async with Outcomes(bootstrap_servers) as reader:
        yield reader


# --------------------------------------------------------------------------- 300 carts before their plans


async def test_300_carts_handled_before_their_plans_are_all_activated_and_none_refused(
    bootstrap_servers, workers, outcomes
):
    accounts = [account() for _ in range(PAIRS)]
    plans = [plan_contracted(account_id) for account_id in accounts]
    carts = [activation_requested(account_id, ("USR-EXTRA", 2), ("DTE-100", 1)) for account_id in accounts]
    started = time.monotonic()
    publish(bootstrap_servers, carts)
    assert set((await outcomes.handled(carts)).values()) == {"processed"}
    waiting = workers.get_json("store", f"/accounts/{accounts[0]}/plan")["waiting_for_plan"]
    assert [(w["kind"], w["request_id"]) for w in waiting] == [("cart", carts[0].payload.request_id)]

    publish(bootstrap_servers, plans)
    async with TopicReader(bootstrap_servers, STORE_EVENTS.name) as events:

        async def all_activated() -> list[dict[str, Any]] | None:
            await events.poll()
            done = [m for m in events.messages(message_type="ActivationCompleted") if m["account_id"] in set(accounts)]
            return done if len(done) >= PAIRS else None

        completed = await eventually(all_activated, timeout=120, what=f"{PAIRS} activations")
        refused = [m for m in events.messages(message_type="ActivationRejected") if m["account_id"] in set(accounts)]
    print(f"{PAIRS} carts before their plans: all activated {time.monotonic() - started:.1f}s after the first cart")
    assert refused == []
    assert sorted(m["causation_id"] for m in completed) == sorted(str(cart.event_id) for cart in carts)
    sample = workers.get_json("store", f"/accounts/{accounts[-1]}/plan")
    assert (sample["entitlements"], sample["waiting_for_plan"]) == ({"users": 2, "dte_monthly": 100}, [])


# --------------------------------------------------------------------------- every pair, both orders


def moments(**offsets: float) -> dict[str, datetime]:
    base = datetime.now(UTC).replace(microsecond=0)
    return {name: base + timedelta(seconds=seconds) for name, seconds in offsets.items()}


def at(moment: datetime, envelope: Envelope[Any]) -> Envelope[Any]:
    return envelope.model_copy(update={"occurred_at": moment})


async def both_orders(bootstrap_servers, workers, outcomes, scenario) -> list[dict[str, Any]]:
    """For each order, a new account: the scenario's setup, then its pair in that order; the end states."""
    states = []
    for second_first in (False, True):
        account_id = account()
        setup, first, second = scenario(account_id)
        pair = (second, first) if second_first else (first, second)
        await handle_in_order(bootstrap_servers, outcomes, *([setup] if setup else []), *pair)
        states.append(end_state(workers, account_id))
    return states


async def test_a_cart_and_the_first_plan_end_the_same_in_either_order(bootstrap_servers, workers, outcomes):
    t = moments(plan=0, cart=1)

    def scenario(account_id):
        plan = at(t["plan"], plan_contracted(account_id, "PYME-PLUS", included={"users": 5}, modules=["inventory"]))
        cart = at(t["cart"], activation_requested(account_id, ("USR-EXTRA", 2), ("MOD-BI", 1), request_id="req-1"))
        return [], [cart], [plan]

    in_order, reversed_order = await both_orders(bootstrap_servers, workers, outcomes, scenario)
    assert in_order == reversed_order
    assert in_order["entitlements"] == {"users": 7, "module:bi": 1, "module:inventory": 1}
    assert in_order["activations"][0]["effective_date"] == business_date(t["cart"]).isoformat()


async def test_a_reduction_behind_a_cart_and_the_first_plan_end_the_same_in_either_order(
    bootstrap_servers, workers, outcomes
):
    t = moments(plan=0, cart=1, reduction=2)

    def scenario(account_id):
        plan = at(t["plan"], plan_contracted(account_id, "PYME", included={"users": 5}))
        cart = at(t["cart"], activation_requested(account_id, ("USR-EXTRA", 4), request_id="req-4"))
        reduction = at(t["reduction"], reduction_requested(account_id, ("USR-EXTRA", 1), request_id="red-1"))
        return [], [cart, reduction], [plan]

    in_order, reversed_order = await both_orders(bootstrap_servers, workers, outcomes, scenario)
    assert in_order == reversed_order
    assert (in_order["entitlements"], [r["request_id"] for r in in_order["pending_reductions"]]) == (
        {"users": 9},
        ["red-1"],
    )


async def test_a_reduction_and_the_renewal_after_it_end_the_same_in_either_order(bootstrap_servers, workers, outcomes):
    t = moments(plan=0, cart=1, reduction=2, renewal=3)

    def scenario(account_id):
        setup = [
            at(t["plan"], plan_contracted(account_id, "PYME", included={"users": 5})),
            at(t["cart"], activation_requested(account_id, ("USR-EXTRA", 4), request_id="req-4")),
        ]
        reduction = at(t["reduction"], reduction_requested(account_id, ("USR-EXTRA", 3), request_id="red-3"))
        renewal = at(t["renewal"], plan_contracted(account_id, "PYME", included={"users": 5}))
        return setup, [reduction], [renewal]

    in_order, reversed_order = await both_orders(bootstrap_servers, workers, outcomes, scenario)
    assert in_order == reversed_order
    assert (in_order["entitlements"], in_order["pending_reductions"]) == ({"users": 6}, [])


async def test_a_cart_and_a_later_suspension_end_the_same_in_either_order(bootstrap_servers, workers, outcomes):
    t = moments(plan=0, cart=1, suspension=2)

    def scenario(account_id):
        setup = [at(t["plan"], plan_contracted(account_id))]
        cart = at(t["cart"], activation_requested(account_id, ("USR-EXTRA", 1), request_id="req-1"))
        suspension = at(t["suspension"], account_suspended(account_id, "Facturas impagas"))
        return setup, [cart], [suspension]

    in_order, reversed_order = await both_orders(bootstrap_servers, workers, outcomes, scenario)
    assert in_order == reversed_order
    assert (in_order["entitlements"], in_order["plan"]["status"]) == ({"users": 1}, "suspended")


async def test_a_cart_made_while_suspended_and_the_reinstatement_end_the_same_in_either_order(
    bootstrap_servers, workers, outcomes
):
    t = moments(plan=0, suspension=1, cart=2, reinstatement=3)

    def scenario(account_id):
        setup = [
            at(t["plan"], plan_contracted(account_id)),
            at(t["suspension"], account_suspended(account_id, "Facturas impagas")),
        ]
        cart = at(t["cart"], activation_requested(account_id, ("USR-EXTRA", 1), request_id="req-1"))
        reinstatement = at(t["reinstatement"], account_reinstated(account_id))
        return setup, [cart], [reinstatement]

    in_order, reversed_order = await both_orders(bootstrap_servers, workers, outcomes, scenario)
    assert in_order == reversed_order
    assert (in_order["entitlements"], in_order["plan"]["status"]) == ({}, "active")
