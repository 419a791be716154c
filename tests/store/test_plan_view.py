"""GET /accounts/{id}/plan: what "Cuenta y Facturación" shows of the plan, read from the store's database."""

import pytest
from sqlalchemy import event

from tests.samples import account, activation_requested
from tests.samples_store import plan_contracted, reduction_requested
from tests.store.conftest import fresh, of_type
from tienda.contracts.types import Person
from tienda.messaging.http import TokenRing
from tienda.messaging.processor import Outcome
from tienda.store.service_layer import views

TOKENS = TokenRing({"cuenta-y-facturacion": ["*"], "solo-otra": ["acc-otra"]})
MATIAS = Person(user_id="u-matias", name="Matías Fuentes", email="matias.fuentes@bodega-los-andes.cl")


@pytest.fixture
async def http(store):
    async with store.http(TOKENS) as client:
        yield client


async def plan(http, account_id, token="cuenta-y-facturacion"):
    response = await http.get(f"/accounts/{account_id}/plan", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_plan_view_shows_plan_features_counts_pending_reductions_and_history(store, http):
    account_id = account()
    await store.deliver(
        plan_contracted(
            account_id,
            "PYME-PLUS",
            included={"users": 5, "dte_monthly": 300, "legal_entities": 1},
            modules=["module:inventory"],
        )
    )
    await store.deliver(activation_requested(account_id, ("USR-EXTRA", 3), ("TRB-EXTRA", 25), request_id="cart-1"))
    await store.deliver(activation_requested(account_id, ("MOD-BI", 1), ("RSO-EXTRA", 1), request_id="cart-2"))
    await store.deliver(reduction_requested(account_id, ("USR-EXTRA", 1), request_id="red-1", requested_by=MATIAS))
    *_, snapshot = await fresh(store)
    view = await plan(http, account_id)

    assert view["account_id"] == account_id
    assert (view["plan"]["code"], view["plan"]["name"], view["plan"]["status"]) == ("PYME-PLUS", "Pyme Plus", "active")
    assert view["features"] == ["module:bi", "module:inventory"]
    assert view["counts"] == {"users": 8, "legal_entities": 2, "payroll_workers": 25, "dte_monthly": 300}
    assert view["entitlements"] == {
        "dte_monthly": 300,
        "legal_entities": 2,
        "module:bi": 1,
        "module:inventory": 1,
        "payroll_workers": 25,
        "users": 8,
    }
    [pending] = view["pending_reductions"]
    assert (pending["request_id"], pending["requested_by"]["name"], pending["takes_effect"]) == (
        "red-1",
        "Matías Fuentes",
        "next_renewal",
    )
    users = next(r for r in view["resources"] if r["resource"] == "users")
    assert (users["included"], users["purchased"], users["scheduled_removal"], users["at_next_renewal"]) == (5, 3, 1, 7)
    assert [a["request_id"] for a in view["activations"]] == ["cart-2", "cart-1"]
    newest = view["activations"][0]
    assert newest["requested_by"] == {
        "user_id": "u-camila",
        "name": "Camila Rojas",
        "email": "camila.rojas@ferreteria-rojas.cl",
    }
    assert newest["activated_at"]
    assert [(line["sku"], line["quantity"], line["unit_price_uf"]) for line in newest["lines"]] == [
        ("MOD-BI", 1, "2.0000"),
        ("RSO-EXTRA", 1, "1.2000"),
    ]
    assert view["revision"] == snapshot["payload"]["revision"] == 4
    assert {key: view[key] for key in ("plan", "features", "counts", "resources", "pending_reductions")} == {
        key: snapshot["payload"][key] for key in ("plan", "features", "counts", "resources", "pending_reductions")
    }


async def test_the_snapshot_carries_the_latest_twenty_activations_and_the_total(store, customer, http):
    for n in range(22):
        await store.deliver(activation_requested(customer, ("TRB-EXTRA", 1), request_id=f"cart-{n:02d}"))
    snapshot = of_type(await fresh(store), "PlanSnapshot")[-1]["payload"]
    assert (len(snapshot["activations"]), snapshot["activations_total"]) == (20, 22)
    assert snapshot["activations"][0]["request_id"] == "cart-21"
    assert snapshot["counts"]["payroll_workers"] == 22
    assert len((await plan(http, customer))["activations"]) == 22


async def test_an_account_without_a_plan_has_an_empty_view(store, http):
    view = await plan(http, "acc-sin-plan")
    assert (view["plan"], view["entitlements"], view["activations"], view["revision"]) == (None, {}, [], 0)


async def test_the_plan_view_needs_a_token_for_the_account(http):
    assert (await http.get("/accounts/acc-1/plan")).status_code == 401
    assert (await http.get("/accounts/acc-1/plan", headers={"Authorization": "Bearer solo-otra"})).status_code == 403


async def test_a_batch_that_changes_an_account_several_times_publishes_its_last_view_once(store, customer):
    other = account()
    await store.deliver(plan_contracted(other))
    await fresh(store)
    carts = [activation_requested(customer, ("TRB-EXTRA", 1), request_id=f"lote-{n}") for n in range(3)]
    outcomes = await store.deliver_batch([carts[0], activation_requested(other, ("TRB-EXTRA", 2)), *carts[1:]])
    assert set(outcomes) == {Outcome.PROCESSED}
    published = await fresh(store)
    snapshots = {m["account_id"]: m for m in of_type(published, "PlanSnapshot")}
    assert len(of_type(published, "PlanSnapshot")) == 2, "one per account, not one per cart"
    last = snapshots[customer]["payload"]
    assert (last["counts"]["payroll_workers"], last["activations_total"]) == (3, 3)
    assert last["revision"] == 4  # the plan, then three carts
    assert snapshots[customer]["causation_id"] == str(carts[-1].event_id)
    order = [(m["type"], m["account_id"]) for m in published]
    assert order.index(("PlanSnapshot", customer)) > max(
        i for i, kind in enumerate(order) if kind == ("ActivationCompleted", customer)
    ), "the snapshot follows every event it sums up"


async def test_one_by_one_each_change_publishes_its_snapshot(store, customer):
    for n in range(2):
        await store.deliver(activation_requested(customer, ("TRB-EXTRA", 1), request_id=f"suelto-{n}"))
    revisions = [m["payload"]["revision"] for m in of_type(await fresh(store), "PlanSnapshot")]
    assert revisions == [2, 3]


async def test_a_batch_reads_an_account_once_and_each_cart_sees_the_one_before(store, customer):
    await fresh(store)
    reads: list[str] = []

    @event.listens_for(store.engine.sync_engine, "before_cursor_execute")
    def count(_conn, _cursor, statement, *_):
        if statement.lstrip().startswith("SELECT") and "FROM account_plans" in statement:
            reads.append(statement)

    first = activation_requested(customer, ("MOD-REMU", 1), request_id="remu-1")
    again = activation_requested(customer, ("MOD-REMU", 1), request_id="remu-2")
    try:
        outcomes = await store.deliver_batch([first, again])
    finally:
        event.remove(store.engine.sync_engine, "before_cursor_execute", count)
    assert outcomes == [Outcome.PROCESSED, Outcome.REJECTED], "the second cart saw the module the first one added"
    rejected = of_type(await fresh(store), "ActivationRejected")
    assert [r["code"] for r in rejected[0]["payload"]["reasons"]] == ["module_already_active"]
    assert len(reads) == 1, "the account was read again inside the batch"


async def test_a_snapshot_built_from_the_records_in_memory_equals_one_read_back_from_the_database(
    store, customer, http
):
    carts = [
        activation_requested(customer, ("TRB-EXTRA", 2), ("USR-EXTRA", 1), request_id=f"mem-{n}") for n in range(3)
    ]
    await store.deliver_batch(carts)
    from_memory = of_type(await fresh(store), "PlanSnapshot")[-1]["payload"]["activations"]
    views.RECORDS.clear()
    await store.deliver(activation_requested(customer, ("TRB-EXTRA", 1), request_id="mem-3"))
    read_back = of_type(await fresh(store), "PlanSnapshot")[-1]["payload"]["activations"]
    assert read_back[0]["request_id"] == "mem-3"
    assert sorted(record["request_id"] for record in read_back[1:]) == ["mem-0", "mem-1", "mem-2"]
    assert read_back[1:] == from_memory, "a record kept in memory differs from the one the database gives back"
    assert (await plan(http, customer))["activations"] == read_back
