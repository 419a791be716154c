"""Activating a cart: all or nothing, every bad line explained, a request activated once."""

from decimal import Decimal

import pytest

from tests.harness import Harness, harness
from tests.samples import account, activation_requested
from tienda.messaging.processor import Outcome
from tienda.store.bootstrap import definition
from tienda.store.domain.activation import CartItem, decide
from tienda.store.domain.catalog import CATALOG


def codes(cart, entitlements=None):
    return [(r.line, r.code) for r in decide(cart, CATALOG, entitlements or {}).refusals]


def test_a_valid_cart_is_activated_whole():
    decision = decide([CartItem("USR-EXTRA", 3), CartItem("DTE-100", 2)], CATALOG, {})
    assert decision.accepted
    assert [(item.product.sku, item.quantity) for item in decision.activated] == [("USR-EXTRA", 3), ("DTE-100", 2)]


def test_every_bad_line_is_named_with_its_reason():
    cart = [CartItem("USR-EXTRA", 2), CartItem("USR-GOLD", 1), CartItem("RSO-EXTRA", 51), CartItem("MOD-BI", 1)]
    assert codes(cart) == [(2, "unknown_sku"), (3, "quantity_out_of_bounds"), (4, "missing_dependency")]


def test_a_module_already_active_is_refused():
    assert codes([CartItem("MOD-INV", 1)], {"module:inventory": 1}) == [(1, "module_already_active")]


def test_a_dependency_in_the_same_cart_is_enough():
    assert codes([CartItem("MOD-INV", 1), CartItem("MOD-BI", 1)]) == []


def test_the_same_sku_twice_is_refused():
    assert codes([CartItem("USR-EXTRA", 1), CartItem("USR-EXTRA", 2)]) == [(2, "repeated_sku")]


@pytest.fixture
async def store(engine) -> Harness:
    return await harness(definition(), engine)


async def test_an_activation_publishes_completion_then_the_charge_with_catalog_prices(store):
    envelope = activation_requested(account(), ("USR-EXTRA", 3), ("DTE-100", 2))
    await store.deliver(envelope)
    completed, charge = await store.relay()
    assert (completed["type"], charge["type"]) == ("ActivationCompleted", "ChargeScheduled")
    assert {e["resource"]: e["quantity"] for e in completed["payload"]["entitlements"]} == {
        "users": 3,
        "dte_monthly": 200,
    }
    assert [(line["sku"], Decimal(line["unit_price_uf"])) for line in charge["payload"]["lines"]] == [
        ("USR-EXTRA", Decimal("0.5000")),
        ("DTE-100", Decimal("0.6000")),
    ]
    assert charge["causation_id"] == str(envelope.event_id)
    assert charge["correlation_id"] == str(envelope.correlation_id)


async def test_a_cart_with_one_bad_line_changes_nothing_and_says_why(store):
    account_id = account()
    await store.deliver(activation_requested(account_id, ("USR-EXTRA", 3), ("USR-GOLD", 1)))
    [rejected] = await store.relay()
    assert rejected["type"] == "ActivationRejected"
    assert [(r["line"], r["code"]) for r in rejected["payload"]["reasons"]] == [(2, "unknown_sku")]
    assert await store.rows("activations") == []
    assert await store.rows("entitlements") == []


async def test_the_same_request_id_with_a_new_event_id_activates_once(store):
    account_id = account()
    first = activation_requested(account_id, ("USR-EXTRA", 1), request_id="req-carrito-7")
    again = activation_requested(account_id, ("USR-EXTRA", 1), request_id="req-carrito-7")
    assert [await store.deliver(first), await store.deliver(again)] == [Outcome.PROCESSED, Outcome.PROCESSED]
    assert len(await store.rows("activations")) == 1
    assert [row["quantity"] for row in await store.rows("entitlements")] == [1]


async def test_entitlements_add_up_across_activations(store):
    account_id = account()
    await store.deliver(activation_requested(account_id, ("USR-EXTRA", 2)))
    await store.deliver(activation_requested(account_id, ("USR-EXTRA", 5)))
    assert [row["quantity"] for row in await store.rows("entitlements")] == [7]
