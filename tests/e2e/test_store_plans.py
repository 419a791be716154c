"""The store on the real broker, driven from outside with kcat: a plan, then a cart that becomes
a charge in billing and a plan snapshot; a bad cart that changes nothing; a reduction scheduled
for the renewal and applied by the next PlanContracted."""

import pytest

from tests.kafka_client import TopicReader, kcat_publish
from tests.samples import account, activation_requested
from tests.samples_store import later, plan_contracted, reduction_requested, store_knows
from tests.waiting import eventually
from tienda.contracts.topics import ACCOUNT_PLANS, ACTIVATION_REQUESTS, PLAN_SNAPSHOTS, STORE_EVENTS
from tienda.messaging.codec import encode

pytestmark = pytest.mark.broker


async def contracted(bootstrap_servers, workers, account_id, *args, **kwargs):
    """Publish the account's plan with kcat and wait until the store has it."""
    envelope = plan_contracted(account_id, *args, **kwargs)
    kcat_publish(bootstrap_servers, ACCOUNT_PLANS.name, account_id, encode(envelope))
    await eventually(store_knows(workers, account_id), what=f"the plan of {account_id} in the store")
    return envelope


async def published(reader, account_id, message_type, count=1):
    async def probe():
        await reader.poll()
        found = reader.messages(account_id, message_type)
        return found if len(found) >= count else None

    return await eventually(probe, what=f"{message_type} for {account_id} on {reader.topic}")


class Reader(TopicReader):
    def __init__(self, bootstrap_servers, topic):
        super().__init__(bootstrap_servers, topic)
        self.topic = topic


async def test_a_cart_published_with_kcat_becomes_a_charge_in_billing_and_a_plan_snapshot(bootstrap_servers, workers):
    account_id = account()
    await contracted(
        bootstrap_servers, workers, account_id, "PYME-PLUS", included={"users": 5}, modules=["module:inventory"]
    )
    cart = activation_requested(account_id, ("USR-EXTRA", 3), ("MOD-BI", 1), ("DTE-100", 1))
    async with (
        Reader(bootstrap_servers, STORE_EVENTS.name) as events,
        Reader(bootstrap_servers, PLAN_SNAPSHOTS.name) as snapshots,
    ):
        kcat_publish(bootstrap_servers, ACTIVATION_REQUESTS.name, account_id, encode(cart))
        [charge] = await published(events, account_id, "ChargeScheduled")
        *_, snapshot = await published(snapshots, account_id, "PlanSnapshot", count=2)
    assert charge["causation_id"] == str(cart.event_id)
    assert [(line["sku"], line["quantity"], line["unit_price_uf"]) for line in charge["payload"]["lines"]] == [
        ("USR-EXTRA", 3, "0.5000"),
        ("MOD-BI", 1, "2.0000"),
        ("DTE-100", 1, "0.6000"),
    ]

    async def charges_in_billing():
        return workers.get_json("billing", f"/accounts/{account_id}/charges")["charges"]

    charges = await eventually(charges_in_billing, what="the charge in billing")
    assert {row["activation_id"] for row in charges} == {charge["payload"]["activation_id"]}
    plan = workers.get_json("store", f"/accounts/{account_id}/plan")
    assert plan["entitlements"] == {"users": 8, "dte_monthly": 100, "module:bi": 1, "module:inventory": 1}
    assert plan["features"] == ["module:bi", "module:inventory"]
    assert (
        snapshot["payload"]["counts"]
        == plan["counts"]
        == {
            "users": 8,
            "legal_entities": 0,
            "payroll_workers": 0,
            "dte_monthly": 100,
        }
    )
    assert snapshot["payload"]["revision"] == plan["revision"] == 2


async def test_a_cart_with_bad_lines_is_rejected_line_by_line_and_nothing_is_charged(bootstrap_servers, workers):
    account_id = account()
    await contracted(bootstrap_servers, workers, account_id, "EMPRENDE")
    cart = activation_requested(account_id, ("USR-EXTRA", 2), ("RSO-EXTRA", 1), ("USR-DIAMANTE", 1), ("MOD-BI", 1))
    async with Reader(bootstrap_servers, STORE_EVENTS.name) as events:
        kcat_publish(bootstrap_servers, ACTIVATION_REQUESTS.name, account_id, encode(cart))
        [rejected] = await published(events, account_id, "ActivationRejected")
        assert events.messages(account_id, "ChargeScheduled") == []
    assert [(r["line"], r["code"]) for r in rejected["payload"]["reasons"]] == [
        (2, "not_sold_to_plan"),
        (3, "unknown_sku"),
        (4, "not_sold_to_plan"),
        (4, "missing_dependency"),
    ]
    assert workers.get_json("store", f"/accounts/{account_id}/plan")["entitlements"] == {}
    assert workers.get_json("billing", f"/accounts/{account_id}/charges")["charges"] == []


async def test_a_reduction_is_announced_for_the_renewal_and_applied_by_the_next_plan(bootstrap_servers, workers):
    account_id = account()
    await contracted(bootstrap_servers, workers, account_id, "PYME", included={"users": 5})
    async with Reader(bootstrap_servers, STORE_EVENTS.name) as events:
        kcat_publish(
            bootstrap_servers,
            ACTIVATION_REQUESTS.name,
            account_id,
            encode(activation_requested(account_id, ("USR-EXTRA", 4))),
        )
        await published(events, account_id, "ActivationCompleted")
        reduction = reduction_requested(account_id, ("USR-EXTRA", 3), request_id="red-menos-usuarios")
        kcat_publish(bootstrap_servers, ACTIVATION_REQUESTS.name, account_id, encode(reduction))
        [scheduled] = await published(events, account_id, "ReductionScheduled")
    assert scheduled["payload"]["takes_effect"] == "next_renewal"
    assert scheduled["payload"]["entitlements_after"] == [{"resource": "users", "quantity": 6}]
    plan = workers.get_json("store", f"/accounts/{account_id}/plan")
    assert (plan["entitlements"], [p["request_id"] for p in plan["pending_reductions"]]) == (
        {"users": 9},
        ["red-menos-usuarios"],
    )

    renewal = plan_contracted(account_id, "PYME", included={"users": 5}, occurred_at=later(minutes=1))
    kcat_publish(bootstrap_servers, ACCOUNT_PLANS.name, account_id, encode(renewal))

    async def renewed():
        view = workers.get_json("store", f"/accounts/{account_id}/plan")
        return view if not view["pending_reductions"] else None

    assert (await eventually(renewed, what="the reduction applied"))["entitlements"] == {"users": 6}
