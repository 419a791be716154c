"""Plans set the baseline; a plan change keeps store purchases; suspension and reinstatement."""

from tests.samples import account, activation_requested
from tests.samples_store import account_reinstated, account_suspended, plan_contracted
from tests.store.conftest import entitlements, fresh, of_type
from tienda.messaging.processor import Outcome


async def test_a_contracted_plan_sets_the_baseline_and_publishes_the_plan_view(store):
    account_id = account()
    await store.deliver(
        plan_contracted(
            account_id, "PYME-PLUS", included={"users": 5, "dte_monthly": 300}, modules=["module:inventory"]
        )
    )
    [snapshot] = await fresh(store)
    assert (snapshot["type"], snapshot["account_id"]) == ("PlanSnapshot", account_id)
    view = snapshot["payload"]
    assert (view["revision"], view["plan"]["code"], view["plan"]["name"]) == (1, "PYME-PLUS", "Pyme Plus")
    assert view["plan"]["status"] == "active"
    assert view["features"] == ["module:inventory"]
    assert view["counts"] == {"users": 5, "legal_entities": 0, "payroll_workers": 0, "dte_monthly": 300}
    assert await entitlements(store, account_id) == {"users": 5, "dte_monthly": 300, "module:inventory": 1}


async def test_a_plan_change_replaces_the_baseline_and_keeps_what_was_bought_in_the_store(store):
    account_id = account()
    await store.deliver(plan_contracted(account_id, "PYME", included={"users": 5}, modules=["module:inventory"]))
    await store.deliver(activation_requested(account_id, ("USR-EXTRA", 3), ("MOD-REMU", 1)))
    await store.deliver(plan_contracted(account_id, "PYME-PLUS", included={"users": 10, "legal_entities": 2}))
    *_, snapshot = await fresh(store)
    assert await entitlements(store, account_id) == {"users": 13, "legal_entities": 2, "module:payroll": 1}
    assert snapshot["payload"]["plan"]["code"] == "PYME-PLUS"
    assert snapshot["payload"]["features"] == ["module:payroll"]
    users = next(r for r in snapshot["payload"]["resources"] if r["resource"] == "users")
    assert (users["included"], users["purchased"], users["quantity"]) == (10, 3, 13)


async def test_a_module_bought_and_later_included_by_the_plan_counts_once(store):
    account_id = account()
    await store.deliver(plan_contracted(account_id, "PYME"))
    await store.deliver(activation_requested(account_id, ("MOD-INV", 1)))
    await store.deliver(plan_contracted(account_id, "CORPORATIVO", modules=["inventory"]))
    assert await entitlements(store, account_id) == {"module:inventory": 1}
    await store.deliver(activation_requested(account_id, ("MOD-PROD", 1)))
    assert await entitlements(store, account_id) == {"module:inventory": 1, "module:production": 1}


async def test_suspension_and_reinstatement_each_change_the_view_once(store, customer):
    assert await store.deliver(account_suspended(customer, "Facturas impagas")) is Outcome.PROCESSED
    await store.deliver(account_suspended(customer, "Facturas impagas"))
    [suspended] = await fresh(store)
    assert suspended["payload"]["plan"]["status"] == "suspended"
    assert suspended["payload"]["plan"]["suspended_reason"] == "Facturas impagas"
    await store.deliver(account_reinstated(customer))
    await store.deliver(account_reinstated(customer))
    [reinstated] = await fresh(store)
    assert reinstated["payload"]["plan"]["status"] == "active"
    assert reinstated["payload"]["plan"]["suspended_reason"] is None
    assert reinstated["payload"]["revision"] == suspended["payload"]["revision"] + 1


async def test_a_suspension_of_an_account_that_never_contracted_a_plan_is_dead_lettered(store):
    assert await store.deliver(account_suspended("acc-fantasma")) is Outcome.DEAD_LETTERED
    [letter] = store.dead_letters()
    assert letter["x-tienda-error-class"] == "UnresolvableReference"
    assert "never contracted a plan" in letter["x-tienda-error-message"]


async def test_every_change_of_the_view_publishes_a_snapshot_with_a_higher_revision(store, customer):
    await store.deliver(activation_requested(customer, ("USR-EXTRA", 1)))
    await store.deliver(activation_requested(customer, ("USR-GOLD", 1)))
    await store.deliver(account_suspended(customer))
    await store.deliver(plan_contracted(customer, "PYME-PLUS"))
    snapshots = of_type(await fresh(store), "PlanSnapshot")
    assert [s["payload"]["revision"] for s in snapshots] == [2, 3, 4]
    assert {s["account_id"] for s in snapshots} == {customer}
    assert snapshots[-1]["payload"]["plan"]["status"] == "suspended"
