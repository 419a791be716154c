"""Billing on the real broker, the three workers as processes: a cart paid online becomes an
order, a payment and a line of the payment history; a cart paid at renewal becomes a line of
the renewal invoice, which asks the gateway to charge the subscribed card, and is paid.

The renewal runs for the account's next renewal date through the operator's endpoint
``POST /admin/renewals`` of the running billing worker."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.e2e.conftest import TOKEN
from tests.kafka_client import TopicReader, publish
from tests.samples import CAMILA, account, activation_requested
from tests.samples_store import plan_contracted, store_knows
from tests.waiting import eventually
from tienda.contracts.envelope import new_envelope
from tienda.contracts.messages.billing import CardSubscribed, UfValuePublished
from tienda.contracts.messages.payment import PaymentReceived
from tienda.contracts.topics import (
    ACCOUNT_PLANS,
    ACTIVATION_REQUESTS,
    BILLING_EVENTS,
    BILLING_REQUESTS,
    BILLING_SNAPSHOTS,
    PAYMENTS_RECEIVED,
    PLATFORM_ACCOUNT,
    UF_VALUES,
)
from tienda.contracts.types import PaymentMode

pytestmark = pytest.mark.broker

CHILE = ZoneInfo("America/Santiago")


def today_in_chile() -> date:
    return datetime.now(UTC).astimezone(CHILE).date()


def uf_value(day: date) -> UfValuePublished:
    return UfValuePublished(uf_date=day, clp_per_uf=Decimal(f"39{day.toordinal() % 1000:03d}.{day.day:02d}"))


async def with_plan_and_uf_values(bootstrap_servers: str, workers: Any, account_id: str) -> date:
    """The account on a monthly plan anchored 5 days ago, and the UF of every day it needs; its next renewal."""
    anchor = today_in_chile() - timedelta(days=5)
    plan = plan_contracted(account_id, renewal_anchor=anchor, plan_price_uf=Decimal("2.5000"))
    await publish(bootstrap_servers, ACCOUNT_PLANS.name, plan)
    await eventually(store_knows(workers, account_id), what="the plan in the store")

    async def next_renewal():
        balance = workers.get_json("billing", f"/accounts/{account_id}/balance")
        return balance["next_renewal"]

    renewal = date.fromisoformat(await eventually(next_renewal, what="the billing account"))
    days = [today_in_chile() + timedelta(days=n) for n in (-1, 0, 1)] + [renewal]
    values = [new_envelope(uf_value(day), account_id=PLATFORM_ACCOUNT, producer="indicator-feed") for day in days]
    await publish(bootstrap_servers, UF_VALUES.name, *values)
    return renewal


async def first(reader: TopicReader, account_id: str, message_type: str) -> dict[str, Any]:
    async def probe():
        await reader.poll()
        return reader.messages(account_id, message_type)

    found = await eventually(probe, what=f"{message_type} of {account_id} on {BILLING_EVENTS.name}")
    return found[0]


def paid(account_id: str, reference: str, amount: int, payment_id: str) -> Any:
    payload = PaymentReceived(
        payment_id=payment_id,
        reference=reference,
        amount_clp=amount,
        method="webpay",
        paid_by="Camila Rojas",
        paid_at=datetime.now(UTC),
    )
    return new_envelope(payload, account_id=account_id, producer="payment-gateway")


async def history(workers: Any, account_id: str, payment_id: str) -> dict[str, Any] | None:
    payments = workers.get_json("billing", f"/accounts/{account_id}/payments")["payments"]
    return next((p for p in payments if p["payment_id"] == payment_id), None)


async def test_a_cart_paid_online_becomes_an_order_a_payment_and_a_line_of_the_payment_history(
    bootstrap_servers, workers
):
    account_id = account()
    await with_plan_and_uf_values(bootstrap_servers, workers, account_id)
    cart = activation_requested(account_id, ("USR-EXTRA", 2), mode=PaymentMode.ONLINE)
    async with TopicReader(bootstrap_servers, BILLING_EVENTS.name) as events:
        await publish(bootstrap_servers, ACTIVATION_REQUESTS.name, cart)
        order = (await first(events, account_id, "OrderCreated"))["payload"]
        assert order["payment_reference"] == order["order_id"]
        assert order["total_clp"] == order["net_clp"] + order["iva_clp"] > 0
        [line] = order["lines"]
        assert (line["sku"], line["quantity"], line["uf_date"]) == ("USR-EXTRA", 2, order["order_date"])

        payment_id = f"wp-{account_id}"
        await publish(
            bootstrap_servers,
            PAYMENTS_RECEIVED.name,
            paid(account_id, order["order_id"], order["total_clp"], payment_id),
        )
        recorded = await eventually(lambda: history(workers, account_id, payment_id), what="the payment in the history")
        invoice = (await first(events, account_id, "InvoiceIssued"))["payload"]

    assert (recorded["reference"], recorded["amount_clp"], recorded["method"], recorded["paid_by"]) == (
        order["order_id"],
        order["total_clp"],
        "webpay",
        "Camila Rojas",
    )
    assert (recorded["matched"], recorded["document_id"]) == (True, order["order_id"])
    assert (invoice["kind"], invoice["status"], invoice["total_clp"]) == ("order", "paid", order["total_clp"])
    assert workers.get_json("billing", f"/accounts/{account_id}/orders/pending")["orders"] == []


async def test_a_cart_paid_at_renewal_is_invoiced_at_renewal_charged_to_the_card_and_paid(bootstrap_servers, workers):
    account_id = account()
    renewal = await with_plan_and_uf_values(bootstrap_servers, workers, account_id)
    card = CardSubscribed(token_reference="tok_visa_e2e", brand="visa", last_four="4242", subscribed_by=CAMILA)
    await publish(
        bootstrap_servers, BILLING_REQUESTS.name, new_envelope(card, account_id=account_id, producer="erp-web")
    )
    cart = activation_requested(account_id, ("USR-EXTRA", 3), mode=PaymentMode.AT_RENEWAL)
    await publish(bootstrap_servers, ACTIVATION_REQUESTS.name, cart)

    async def charge_waits_for_renewal():
        charges = workers.get_json("billing", f"/accounts/{account_id}/charges")["charges"]
        card_known = workers.get_json("billing", f"/accounts/{account_id}/balance")["card"]
        return card_known and [c for c in charges if c["status"] == "pending_renewal"]

    [charge] = await eventually(charge_waits_for_renewal, what="the charge pending renewal and the card")

    async with (
        TopicReader(bootstrap_servers, BILLING_EVENTS.name) as events,
        TopicReader(bootstrap_servers, BILLING_SNAPSHOTS.name) as snapshots,
    ):
        async with httpx.AsyncClient(base_url=workers["billing"].url, timeout=30) as client:
            response = await client.post(
                "/admin/renewals",
                json={"date": renewal.isoformat(), "early": True},
                headers={"Authorization": f"Bearer {TOKEN}"},
            )
        assert response.status_code == 202
        await eventually(
            lambda: _renewal_finished(workers, renewal), timeout=60, what=f"the renewal run of {renewal} finished"
        )
        invoice = (await first(events, account_id, "InvoiceIssued"))["payload"]
        request = (await first(events, account_id, "PaymentRequested"))["payload"]

        assert (invoice["kind"], invoice["issue_date"], invoice["period_start"]) == (
            "renewal",
            renewal.isoformat(),
            renewal.isoformat(),
        )
        kinds = [(line["kind"], line["sku"]) for line in invoice["lines"]]
        assert kinds == [("plan", "PYME"), ("addon", "USR-EXTRA"), ("prorated", "USR-EXTRA")]
        prorated = invoice["lines"][2]
        assert (prorated["activation_id"], prorated["quantity"]) == (charge["activation_id"], 3)
        assert sum(line["amount_clp"] for line in invoice["lines"]) == invoice["net_clp"]
        assert (request["invoice_id"], request["amount_clp"], request["token_reference"], request["last_four"]) == (
            invoice["invoice_id"],
            invoice["total_clp"],
            "tok_visa_e2e",
            "4242",
        )

        payment_id = f"wp-auto-{account_id}"
        await publish(
            bootstrap_servers,
            PAYMENTS_RECEIVED.name,
            paid(account_id, request["payment_reference"], request["amount_clp"], payment_id),
        )
        recorded = await eventually(lambda: history(workers, account_id, payment_id), what="the autopay payment")
        assert (recorded["document_id"], recorded["applied_clp"]) == (invoice["invoice_id"], invoice["total_clp"])

        async def paid_in_snapshot():
            await snapshots.poll()
            views = [m["payload"] for m in snapshots.messages(account_id, "BillingSnapshot")]
            latest = max(views, key=lambda view: view["revision"], default=None)
            statuses = [i["status"] for i in latest["invoices"]] if latest else []
            return latest if statuses == ["paid"] else None

        snapshot = await eventually(paid_in_snapshot, what="the paid invoice in the billing snapshot")
    assert (snapshot["balance_due_clp"], snapshot["card"]["last_four"]) == (0, "4242")


async def _renewal_finished(workers, day):
    return workers.get_json("billing", f"/admin/renewals/{day.isoformat()}")["state"] == "finished"
