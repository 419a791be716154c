"""Activating a cart: all or nothing, every bad line explained, a request activated once."""

from decimal import Decimal

from tests.samples import account, activation_requested
from tests.samples_store import account_reinstated, account_suspended, plan_contracted
from tests.store.catalogs import SEED, account_on
from tests.store.conftest import entitlements, fresh, of_type, reasons
from tienda.messaging.processor import Outcome
from tienda.store.domain.activation import CartItem, decide


def codes(cart, account=None):
    return [(r.line, r.code) for r in decide(cart, SEED, account or account_on()).refusals]


# --------------------------------------------------------------------------- the rules, pure


def test_a_valid_cart_is_activated_whole():
    decision = decide([CartItem("USR-EXTRA", 3), CartItem("DTE-100", 2)], SEED, account_on())
    assert decision.accepted
    assert [(item.product.sku, item.quantity) for item in decision.activated] == [("USR-EXTRA", 3), ("DTE-100", 2)]


def test_every_bad_line_is_named_with_its_reason():
    cart = [CartItem("USR-EXTRA", 2), CartItem("USR-GOLD", 1), CartItem("RSO-EXTRA", 51), CartItem("MOD-BI", 1)]
    assert codes(cart) == [(2, "unknown_sku"), (3, "quantity_out_of_bounds"), (4, "missing_dependency")]


def test_a_module_already_active_is_refused():
    assert codes([CartItem("MOD-INV", 1)], account_on(module_inventory=1)) == [(1, "module_already_active")]


def test_a_module_the_plan_includes_is_already_active():
    assert codes([CartItem("MOD-INV", 1)], account_on(included={"module:inventory": 1})) == [
        (1, "module_already_active")
    ]


def test_a_dependency_in_the_same_cart_is_enough():
    assert codes([CartItem("MOD-INV", 1), CartItem("MOD-BI", 1)]) == []


def test_a_dependency_included_by_the_plan_is_enough():
    assert codes([CartItem("MOD-BI", 1)], account_on(included={"module:inventory": 1})) == []


def test_the_same_sku_twice_is_refused():
    assert codes([CartItem("USR-EXTRA", 1), CartItem("USR-EXTRA", 2)]) == [(2, "repeated_sku")]


def test_a_sku_not_sold_to_the_plan_is_refused():
    emprende = account_on("EMPRENDE")
    assert codes([CartItem("USR-EXTRA", 1), CartItem("RSO-EXTRA", 1)], emprende) == [(2, "not_sold_to_plan")]
    assert codes([CartItem("MOD-INV", 1), CartItem("MOD-PROD", 1)], account_on("PYME-PLUS")) == [
        (2, "not_sold_to_plan")
    ]


def test_quantities_below_the_minimum_or_above_the_maximum_are_refused():
    assert codes([CartItem("USR-EXTRA", 201), CartItem("DTE-500", 21), CartItem("TRB-EXTRA", 5000)]) == [
        (1, "quantity_out_of_bounds"),
        (2, "quantity_out_of_bounds"),
    ]


def test_an_unknown_account_refuses_the_whole_cart_and_still_names_each_bad_line():
    decision = decide([CartItem("USR-EXTRA", 1), CartItem("USR-GOLD", 1)], SEED, None)
    assert [(r.line, r.code) for r in decision.refusals] == [(None, "unknown_account"), (2, "unknown_sku")]


def test_a_suspended_account_refuses_the_whole_cart():
    suspended = account_on()
    suspended.suspend("Facturas impagas")
    refusal, *_ = decide([CartItem("USR-EXTRA", 1)], SEED, suspended).refusals
    assert (refusal.line, refusal.sku, refusal.code) == (None, None, "account_suspended")
    assert "Facturas impagas" in refusal.message


# --------------------------------------------------------------------------- through the handlers


async def test_an_activation_publishes_completion_then_the_charge_with_catalog_prices(store, customer):
    envelope = activation_requested(customer, ("USR-EXTRA", 3), ("DTE-100", 2))
    await store.deliver(envelope)
    completed, charge, snapshot = await fresh(store)
    assert (completed["type"], charge["type"], snapshot["type"]) == (
        "ActivationCompleted",
        "ChargeScheduled",
        "PlanSnapshot",
    )
    assert {e["resource"]: e["quantity"] for e in completed["payload"]["entitlements"]} == {
        "users": 3,
        "dte_monthly": 200,
    }
    assert [(line["sku"], Decimal(line["unit_price_uf"])) for line in charge["payload"]["lines"]] == [
        ("USR-EXTRA", Decimal("0.5000")),
        ("DTE-100", Decimal("0.6000")),
    ]
    assert charge["payload"]["effective_date"] == completed["payload"]["effective_date"]
    assert charge["causation_id"] == str(envelope.event_id)
    assert charge["correlation_id"] == str(envelope.correlation_id)


async def test_a_cart_with_one_bad_line_changes_nothing_and_says_why(store, customer):
    await store.deliver(activation_requested(customer, ("USR-EXTRA", 3), ("USR-GOLD", 1)))
    [rejected] = await fresh(store)
    assert rejected["type"] == "ActivationRejected"
    assert reasons(rejected) == [(2, "unknown_sku")]
    assert rejected["payload"]["reasons"][0]["message"] == "USR-GOLD is not in the catalog."
    assert await store.rows("activations") == []
    assert await entitlements(store, customer) == {}


async def test_a_cart_with_several_bad_lines_says_why_for_each_and_changes_nothing(store):
    account_id = account()
    await store.deliver(plan_contracted(account_id, "EMPRENDE", included={"users": 2}, modules=["inventory"]))
    cart = activation_requested(
        account_id,
        ("USR-EXTRA", 2),
        ("MOD-INV", 1),
        ("RSO-EXTRA", 1),
        ("MOD-BI", 1),
        ("DTE-100", 0 + 101),
        ("USR-EXTRA", 1),
        ("FACTURA-PRO", 1),
    )
    await fresh(store)
    before = await store.rows("entitlements")
    assert await store.deliver(cart) is Outcome.REJECTED
    [rejected] = of_type(await fresh(store), "ActivationRejected")
    assert reasons(rejected) == [
        (2, "module_already_active"),
        (3, "not_sold_to_plan"),
        (4, "not_sold_to_plan"),
        (5, "quantity_out_of_bounds"),
        (6, "repeated_sku"),
        (7, "unknown_sku"),
    ]
    assert all(reason["message"] for reason in rejected["payload"]["reasons"])
    assert await store.rows("entitlements") == before
    assert await store.rows("activations") == []


async def test_a_suspended_account_buys_nothing_until_reinstated(store, customer):
    await store.deliver(account_suspended(customer))
    await store.deliver(activation_requested(customer, ("USR-EXTRA", 1), request_id="req-mientras-suspendida"))
    await store.deliver(account_reinstated(customer))
    await store.deliver(activation_requested(customer, ("USR-EXTRA", 1), request_id="req-mientras-suspendida"))
    messages = await fresh(store)
    [rejected] = of_type(messages, "ActivationRejected")
    assert reasons(rejected) == [(None, "account_suspended")]
    assert len(of_type(messages, "ActivationCompleted")) == 1
    assert await entitlements(store, customer) == {"users": 1}


async def test_the_same_request_id_with_a_new_event_id_activates_once(store, customer):
    first = activation_requested(customer, ("USR-EXTRA", 1), request_id="req-carrito-7")
    again = activation_requested(customer, ("USR-EXTRA", 1), request_id="req-carrito-7")
    assert [await store.deliver(first), await store.deliver(again)] == [Outcome.PROCESSED, Outcome.PROCESSED]
    assert len(await store.rows("activations")) == 1
    assert [row["quantity"] for row in await store.rows("entitlements")] == [1]
    assert len(of_type(await fresh(store), "ChargeScheduled")) == 1


async def test_entitlements_add_up_across_activations(store, customer):
    await store.deliver(activation_requested(customer, ("USR-EXTRA", 2)))
    await store.deliver(activation_requested(customer, ("USR-EXTRA", 5)))
    assert [row["quantity"] for row in await store.rows("entitlements")] == [7]


async def test_store_purchases_add_to_what_the_plan_includes(store):
    account_id = account()
    await store.deliver(plan_contracted(account_id, "PYME-PLUS", included={"users": 5}, modules=["module:inventory"]))
    await store.deliver(activation_requested(account_id, ("USR-EXTRA", 3), ("MOD-BI", 1)))
    [completed] = of_type(await fresh(store), "ActivationCompleted")
    assert {e["resource"]: e["quantity"] for e in completed["payload"]["entitlements"]} == {
        "module:bi": 1,
        "module:inventory": 1,
        "users": 8,
    }
