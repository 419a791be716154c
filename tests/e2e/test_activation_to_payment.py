"""One real path on the real broker: a cart published from outside becomes a charge in
billing; a payment from the gateway lands in the payment history; bad input is set aside."""

import json

import pytest

from tests.kafka_client import TopicReader, kcat_publish, publish
from tests.samples import account, activation_requested, as_dict, payment_received
from tests.samples_store import plan_contracted, store_knows
from tests.waiting import eventually
from tienda.contracts.topics import (
    ACCOUNT_PLANS,
    ACTIVATION_REQUESTS,
    PAYMENTS_RECEIVED,
    STORE_EVENTS,
    dead_letter_topic,
)
from tienda.messaging.codec import encode

pytestmark = pytest.mark.broker


async def contract_plan(bootstrap_servers, workers, account_id):
    """The ERP contracts a plan for the account (with kcat) and the store has it before any cart."""
    kcat_publish(bootstrap_servers, ACCOUNT_PLANS.name, account_id, encode(plan_contracted(account_id)))
    await eventually(store_knows(workers, account_id), what="the store knows the account's plan")


async def test_a_cart_published_with_kcat_becomes_a_charge_recorded_by_billing(bootstrap_servers, workers):
    account_id = account()
    cart = activation_requested(account_id, ("USR-EXTRA", 3), ("DTE-100", 1))
    await contract_plan(bootstrap_servers, workers, account_id)
    async with TopicReader(bootstrap_servers, STORE_EVENTS.name) as store_events:
        kcat_publish(bootstrap_servers, ACTIVATION_REQUESTS.name, account_id, encode(cart))

        async def charge_published():
            await store_events.poll()
            return store_events.messages(account_id, "ChargeScheduled")

        [charge] = await eventually(charge_published, what="ChargeScheduled on tienda.store.events")
    assert charge["causation_id"] == str(cart.event_id)
    assert [(line["sku"], line["quantity"]) for line in charge["payload"]["lines"]] == [
        ("USR-EXTRA", 3),
        ("DTE-100", 1),
    ]

    async def charges_in_billing():
        return workers.get_json("billing", f"/accounts/{account_id}/charges")["charges"]

    charges = await eventually(charges_in_billing, what="the charge in billing")
    assert {row["activation_id"] for row in charges} == {charge["payload"]["activation_id"]}
    plan = workers.get_json("store", f"/accounts/{account_id}/plan")
    assert plan["entitlements"] == {"users": 3, "dte_monthly": 100}


async def test_a_payment_from_the_gateway_appears_in_the_payment_history_once(bootstrap_servers, workers):
    account_id = account()
    payment = payment_received(account_id, "ORD-2026-0042", 42_900, payment_id="wp-e2e-1")
    await publish(bootstrap_servers, PAYMENTS_RECEIVED.name, payment, payment)

    async def history():
        return workers.get_json("billing", f"/accounts/{account_id}/payments")["payments"]

    [recorded] = await eventually(history, what="the payment in billing's history")
    assert (recorded["payment_id"], recorded["amount_clp"], recorded["reference"]) == (
        "wp-e2e-1",
        42_900,
        "ORD-2026-0042",
    )


async def test_bad_input_is_dead_lettered_naming_the_field_and_the_worker_goes_on(bootstrap_servers, workers):
    account_id = account()
    await contract_plan(bootstrap_servers, workers, account_id)
    missing_field = as_dict(activation_requested(account_id))
    del missing_field["payload"]["requested_by"]["email"]
    kcat_publish(bootstrap_servers, ACTIVATION_REQUESTS.name, account_id, b'{"type": "ActivationRequested", ')
    kcat_publish(bootstrap_servers, ACTIVATION_REQUESTS.name, account_id, json.dumps(missing_field).encode())
    good = activation_requested(account_id, ("TRB-EXTRA", 40))
    kcat_publish(bootstrap_servers, ACTIVATION_REQUESTS.name, account_id, encode(good))

    async with TopicReader(bootstrap_servers, dead_letter_topic("store").name) as dead_letters:

        async def both_dead_lettered():
            await dead_letters.poll()
            mine = [h for h in dead_letters.headers() if h["x-tienda-original-key"] == account_id]
            return mine if len(mine) == 2 else None

        invalid_json, missing = await eventually(both_dead_lettered, what="two dead letters")
    assert invalid_json["x-tienda-error-message"].startswith("invalid JSON")
    assert "payload.requested_by.email: field required" in missing["x-tienda-error-message"]
    assert missing["x-tienda-original-topic"] == ACTIVATION_REQUESTS.name

    async def activated():
        return workers.get_json("store", f"/accounts/{account_id}/plan")["entitlements"]

    assert await eventually(activated, what="the good cart activated") == {"payroll_workers": 40}
    assert workers["store"].running()
