"""Decreases: scheduled for the next renewal, never refunded mid-period, applied by the next
PlanContracted; refused whole when any line cannot be reduced."""

from datetime import timedelta

import pytest

from tests.samples import account, activation_requested
from tests.samples_store import account_suspended, later, plan_contracted, reduction_requested
from tests.store.conftest import entitlements, fresh, of_type, reasons
from tienda.messaging.processor import Outcome


@pytest.fixture
async def bodega(store) -> str:
    """Bodega Los Andes: Pyme Plus with 5 users, 300 DTE and inventory included; bought 4 users, 500 DTE, BI."""
    account_id = account()
    await store.deliver(
        plan_contracted(account_id, "PYME-PLUS", included={"users": 5, "dte_monthly": 300}, modules=["inventory"])
    )
    await store.deliver(activation_requested(account_id, ("USR-EXTRA", 4), ("DTE-100", 5), ("MOD-BI", 1)))
    await fresh(store)
    return account_id


async def test_a_reduction_is_scheduled_for_the_next_renewal_and_nothing_changes_until_then(store, bodega):
    before = await entitlements(store, bodega)
    await store.deliver(reduction_requested(bodega, ("USR-EXTRA", 2), ("DTE-100", 2), request_id="red-bodega-1"))
    scheduled, snapshot = await fresh(store)
    assert (scheduled["type"], snapshot["type"]) == ("ReductionScheduled", "PlanSnapshot")
    payload = scheduled["payload"]
    assert (payload["request_id"], payload["takes_effect"]) == ("red-bodega-1", "next_renewal")
    assert [(line["sku"], line["quantity"], line["units"], line["unit_price_uf"]) for line in payload["lines"]] == [
        ("USR-EXTRA", 2, 2, "0.5000"),
        ("DTE-100", 2, 200, "0.6000"),
    ]
    assert {e["resource"]: e["quantity"] for e in payload["entitlements_after"]} == {
        "users": 7,
        "dte_monthly": 600,
        "module:bi": 1,
        "module:inventory": 1,
    }
    assert await entitlements(store, bodega) == before
    view = snapshot["payload"]
    users = next(r for r in view["resources"] if r["resource"] == "users")
    assert (users["quantity"], users["scheduled_removal"], users["at_next_renewal"]) == (9, 2, 7)
    assert [p["request_id"] for p in view["pending_reductions"]] == ["red-bodega-1"]
    assert view["counts"]["users"] == 9


async def test_a_reduction_is_never_refunded_mid_period(store, bodega):
    await store.deliver(reduction_requested(bodega, ("USR-EXTRA", 4)))
    published = {message["type"] for message in await fresh(store)}
    assert published == {"ReductionScheduled", "PlanSnapshot"}


async def test_the_next_plan_contracted_applies_the_pending_reductions(store, bodega):
    await store.deliver(reduction_requested(bodega, ("USR-EXTRA", 3), ("MOD-BI", 1)))
    renewal = plan_contracted(
        bodega,
        "PYME-PLUS",
        included={"users": 5, "dte_monthly": 300},
        modules=["inventory"],
        occurred_at=later(hours=1),
    )
    await store.deliver(renewal)
    *_, snapshot = await fresh(store)
    assert await entitlements(store, bodega) == {"users": 6, "dte_monthly": 800, "module:inventory": 1}
    assert snapshot["payload"]["pending_reductions"] == []
    assert snapshot["payload"]["features"] == ["module:inventory"]
    [reduction] = await store.rows("reductions")
    assert (reduction["status"], reduction["applied_by_event_id"]) == ("applied", str(renewal.event_id))


async def test_a_plan_contracted_before_the_request_leaves_it_pending(store, bodega):
    await store.deliver(reduction_requested(bodega, ("USR-EXTRA", 1)))
    earlier = plan_contracted(bodega, "PYME-PLUS", included={"users": 5}, occurred_at=later(hours=-1))
    await store.deliver(earlier)
    *_, snapshot = await fresh(store)
    assert [len(p["lines"]) for p in snapshot["payload"]["pending_reductions"]] == [1]
    assert (await entitlements(store, bodega))["users"] == 9


async def test_the_same_request_id_twice_schedules_once(store, bodega):
    for _ in range(2):
        await store.deliver(reduction_requested(bodega, ("USR-EXTRA", 1), request_id="red-repetida"))
    assert len(of_type(await fresh(store), "ReductionScheduled")) == 1
    assert len(await store.rows("reductions")) == 1


async def test_more_than_was_bought_in_the_store_is_refused(store, bodega):
    await store.deliver(reduction_requested(bodega, ("USR-EXTRA", 5)))
    [rejected] = await fresh(store)
    assert rejected["type"] == "ReductionRejected"
    assert reasons(rejected) == [(1, "exceeds_store_purchases")]
    assert "4 bought in the store can still be removed" in rejected["payload"]["reasons"][0]["message"]


async def test_what_is_already_scheduled_cannot_be_removed_twice(store, bodega):
    await store.deliver(reduction_requested(bodega, ("USR-EXTRA", 3)))
    assert await store.deliver(reduction_requested(bodega, ("USR-EXTRA", 2))) is Outcome.REJECTED
    await store.deliver(reduction_requested(bodega, ("MOD-BI", 1)))
    await store.deliver(reduction_requested(bodega, ("MOD-BI", 1)))
    rejected = of_type(await fresh(store), "ReductionRejected")
    assert [reasons(r) for r in rejected] == [[(1, "exceeds_store_purchases")], [(1, "already_scheduled")]]


async def test_what_the_plan_includes_cannot_be_reduced_in_the_store(store, bodega):
    await store.deliver(reduction_requested(bodega, ("MOD-INV", 1)))
    await store.deliver(activation_requested(bodega, ("RSO-EXTRA", 1)))
    await store.deliver(plan_contracted(bodega, "PYME-PLUS", included={"legal_entities": 1, "users": 5}))
    await store.deliver(reduction_requested(bodega, ("RSO-EXTRA", 2)))
    rejected = of_type(await fresh(store), "ReductionRejected")
    assert [reasons(r) for r in rejected] == [[(1, "included_in_plan")], [(1, "exceeds_store_purchases")]]


async def test_a_module_another_active_module_needs_stays_unless_both_leave(store):
    account_id = account()
    await store.deliver(plan_contracted(account_id, "CORPORATIVO"))
    await store.deliver(activation_requested(account_id, ("MOD-INV", 1), ("MOD-BI", 1), ("MOD-PROD", 1)))
    await store.deliver(reduction_requested(account_id, ("MOD-INV", 1)))
    await store.deliver(reduction_requested(account_id, ("MOD-INV", 1), ("MOD-BI", 1)))
    await store.deliver(reduction_requested(account_id, ("MOD-PROD", 1), ("MOD-INV", 1), ("MOD-BI", 1)))
    messages = await fresh(store)
    first, second = of_type(messages, "ReductionRejected")
    assert reasons(first) == [(1, "required_by_active_module"), (1, "required_by_active_module")]
    assert reasons(second) == [(1, "required_by_active_module")]
    assert "Módulo Producción needs Módulo Inventario" in second["payload"]["reasons"][0]["message"]
    [scheduled] = of_type(messages, "ReductionScheduled")
    assert [line["sku"] for line in scheduled["payload"]["lines"]] == ["MOD-PROD", "MOD-INV", "MOD-BI"]


async def test_a_module_leaving_at_renewal_is_no_dependency_for_a_new_one(store):
    account_id = account()
    await store.deliver(plan_contracted(account_id, "CORPORATIVO"))
    await store.deliver(activation_requested(account_id, ("MOD-INV", 1)))
    await store.deliver(reduction_requested(account_id, ("MOD-INV", 1)))
    await store.deliver(activation_requested(account_id, ("MOD-BI", 1)))
    await store.deliver(activation_requested(account_id, ("MOD-INV", 1)))
    first, second = of_type(await fresh(store), "ActivationRejected")
    assert reasons(first) == [(1, "missing_dependency")]
    assert "removal at the next renewal is scheduled" in first["payload"]["reasons"][0]["message"]
    assert reasons(second) == [(1, "module_already_active")]


async def test_every_bad_line_of_a_reduction_is_named_and_nothing_is_scheduled(store, bodega):
    request = reduction_requested(
        bodega, ("MOD-REMU", 1), ("MOD-BI", 2), ("USR-EXTRA", 1), ("USR-EXTRA", 1), ("USR-PLATINO", 1)
    )
    assert await store.deliver(request) is Outcome.REJECTED
    [rejected] = await fresh(store)
    assert reasons(rejected) == [
        (1, "module_not_active"),
        (2, "quantity_out_of_bounds"),
        (4, "repeated_sku"),
        (5, "unknown_sku"),
    ]
    assert await store.rows("reductions") == []


async def test_a_suspended_account_may_still_reduce_its_plan(store, bodega):
    await store.deliver(account_suspended(bodega))
    await store.deliver(reduction_requested(bodega, ("USR-EXTRA", 4)))
    assert len(of_type(await fresh(store), "ReductionScheduled")) == 1


async def test_a_reduction_names_the_sku_bought_and_counts_in_units_of_the_resource(store, bodega):
    await store.deliver(activation_requested(bodega, ("DTE-500", 1)))
    await store.deliver(reduction_requested(bodega, ("DTE-100", 6)))
    await store.deliver(reduction_requested(bodega, ("DTE-500", 1), ("DTE-100", 5)))
    await store.deliver(reduction_requested(bodega, ("DTE-100", 1)))
    messages = await fresh(store)
    first, second = of_type(messages, "ReductionRejected")
    assert reasons(first) == [(1, "exceeds_store_purchases")]
    assert "5 bought in the store can still be removed" in first["payload"]["reasons"][0]["message"]
    [scheduled] = of_type(messages, "ReductionScheduled")
    assert [(line["sku"], line["units"]) for line in scheduled["payload"]["lines"]] == [
        ("DTE-500", 500),
        ("DTE-100", 500),
    ]
    assert {e["resource"]: e["quantity"] for e in scheduled["payload"]["entitlements_after"]}["dte_monthly"] == 300
    assert reasons(second) == [(1, "exceeds_store_purchases")]


async def test_a_reduction_requested_later_than_the_renewal_waits_for_the_one_after(store, bodega):
    renewal_time = later(hours=2)
    await store.deliver(reduction_requested(bodega, ("USR-EXTRA", 1), occurred_at=renewal_time + timedelta(hours=1)))
    await store.deliver(plan_contracted(bodega, "PYME-PLUS", included={"users": 5}, occurred_at=renewal_time))
    await store.deliver(plan_contracted(bodega, "PYME-PLUS", included={"users": 5}, occurred_at=later(hours=4)))
    assert (await entitlements(store, bodega))["users"] == 8
