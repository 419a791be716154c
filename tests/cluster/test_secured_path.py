"""The whole path on the secured three-broker cluster, every client authenticated as its own
principal (SASL_SSL, SCRAM-SHA-512) and held to the registry's ACLs: the ERP's cart becomes an
activation in the store, a charge and an order in billing; the gateway's payment is recorded and
the order's invoice issued. The workers use idempotent producers with Write on their topics and
no IdempotentWrite on the cluster: that is enough on Kafka 4."""

import json
import urllib.request
from datetime import timedelta

import pytest

from tests.e2e.test_billing_flows import first, history, paid, today_in_chile, uf_value
from tests.kafka_client import TopicReader, publish
from tests.samples import account, activation_requested
from tests.samples_store import plan_contracted, store_knows
from tests.waiting import eventually
from tienda.contracts.envelope import new_envelope
from tienda.contracts.topics import (
    ACCOUNT_PLANS,
    ACTIVATION_REQUESTS,
    BILLING_EVENTS,
    PAYMENTS_RECEIVED,
    PLATFORM_ACCOUNT,
    STORE_EVENTS,
    UF_VALUES,
)
from tienda.contracts.types import PaymentMode

pytestmark = [pytest.mark.broker, pytest.mark.postgres, pytest.mark.cluster]


async def test_a_cart_becomes_an_activation_a_charge_an_order_a_payment_and_an_invoice_on_the_secured_cluster(
    secured_cluster, secured_workers
):
    erp, gateway, feed = (secured_cluster.connection(name) for name in ("erp-web", "payment-gateway", "indicator-feed"))
    operators = secured_cluster.connection("operators")
    account_id = account()
    days = [today_in_chile() + timedelta(days=n) for n in (-1, 0, 1)]
    values = [new_envelope(uf_value(day), account_id=PLATFORM_ACCOUNT, producer="indicator-feed") for day in days]
    await publish(feed, UF_VALUES.name, *values)
    await publish(erp, ACCOUNT_PLANS.name, plan_contracted(account_id, renewal_anchor=days[1] - timedelta(days=5)))
    await eventually(store_knows(secured_workers, account_id), what="the plan in the store")

    cart = activation_requested(account_id, ("USR-EXTRA", 2), mode=PaymentMode.ONLINE)
    async with (
        TopicReader(operators, STORE_EVENTS.name) as store_events,
        TopicReader(operators, BILLING_EVENTS.name) as billing_events,
    ):
        await publish(erp, ACTIVATION_REQUESTS.name, cart)
        completed = await first(store_events, account_id, "ActivationCompleted")
        charge = await first(store_events, account_id, "ChargeScheduled")
        order = (await first(billing_events, account_id, "OrderCreated"))["payload"]

        payment_id = f"wp-secured-{account_id}"
        await publish(
            gateway, PAYMENTS_RECEIVED.name, paid(account_id, order["order_id"], order["total_clp"], payment_id)
        )
        recorded = await eventually(
            lambda: history(secured_workers, account_id, payment_id), what="the payment in billing's history"
        )
        invoice = (await first(billing_events, account_id, "InvoiceIssued"))["payload"]

    assert completed["causation_id"] == charge["causation_id"] == str(cart.event_id)
    assert [(line["sku"], line["quantity"]) for line in order["lines"]] == [("USR-EXTRA", 2)]
    assert (recorded["document_id"], recorded["amount_clp"]) == (order["order_id"], order["total_clp"])
    assert (invoice["kind"], invoice["status"], invoice["total_clp"]) == ("order", "paid", order["total_clp"])
    plan = secured_workers.get_json("store", f"/accounts/{account_id}/plan")
    assert plan["entitlements"] == {"users": 2}


async def test_no_password_leaves_a_worker_through_its_logs_metrics_or_readiness(secured_cluster, secured_workers):
    for service, worker in secured_workers.items():
        password = secured_cluster.passwords[service]
        status, readiness = worker.readiness()
        with urllib.request.urlopen(f"{worker.url}/metrics", timeout=5) as response:
            metrics = response.read().decode()
        assert status == 200, readiness
        assert password not in json.dumps(readiness)
        assert password not in metrics
        assert password not in worker.log_path.read_text(errors="replace")
        assert f"SCRAM-SHA-512 as {service}" in worker.log_path.read_text(errors="replace")
