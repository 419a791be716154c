"""Quote = order on the real broker, the three workers as processes: the store's quote of a cart
paid online (POST /accounts/{id}/cart/quote) equals, line by line and to the peso, the OrderCreated
billing publishes once the same cart is activated; a cart the store would refuse is quoted with the
reason codes of its ActivationRejected.

The workers run on today's clock, so the named cases place the plan's anchor around today: a
monthly plan anchored on a 31st, an annual plan anchored at the end of February, a monthly plan
anchored a few days ago, carts of several lines."""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import TOKEN
from tests.e2e.test_billing_flows import today_in_chile, uf_value
from tests.kafka_client import TopicReader, publish
from tests.samples import account, activation_requested
from tests.samples_store import plan_contracted, store_knows
from tests.waiting import eventually
from tienda.contracts.envelope import new_envelope
from tienda.contracts.messages.plans import BillingCycle
from tienda.contracts.topics import (
    ACCOUNT_PLANS,
    ACTIVATION_REQUESTS,
    BILLING_EVENTS,
    PLATFORM_ACCOUNT,
    STORE_EVENTS,
    UF_VALUES,
)
from tienda.contracts.types import PaymentMode

pytestmark = pytest.mark.broker

LINE_FIELDS = ("sku", "quantity", "unit_price_uf", "months", "period_start", "period_end", "days", "period_days")
LINE_FIELDS += ("amount_uf", "amount_clp")


def last_31st_before(day: date) -> date:
    while day.day != 31:
        day -= timedelta(days=1)
    return day


def end_of_february_before(day: date) -> date:
    year = day.year if day.month > 2 else day.year - 1
    return date(year, 3, 1) - timedelta(days=1)


CASES = {
    "monthly anchored on a 31st, three lines": (
        lambda today: last_31st_before(today - timedelta(days=1)),
        BillingCycle.MONTHLY,
        [("USR-EXTRA", 3), ("TRB-EXTRA", 25), ("DTE-100", 2)],
    ),
    "annual anchored at the end of February, two lines": (
        end_of_february_before,
        BillingCycle.ANNUAL,
        [("USR-EXTRA", 7), ("MOD-INV", 1)],
    ),
    "monthly anchored five days ago, one line": (
        lambda today: today - timedelta(days=5),
        BillingCycle.MONTHLY,
        [("DTE-500", 3)],
    ),
}


async def quote(client: httpx.AsyncClient, account_id: str, lines: list[tuple[str, int]]) -> dict[str, Any]:
    body = {"payment_mode": "online", "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines]}
    response = await client.post(f"/accounts/{account_id}/cart/quote", json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def found(reader: TopicReader, account_id: str, message_type: str) -> dict[str, Any]:
    async def probe():
        await reader.poll()
        return reader.messages(account_id, message_type)

    [message, *_] = await eventually(probe, what=f"{message_type} of {account_id}")
    return message["payload"]


@pytest.fixture(scope="module")
async def todays_uf(bootstrap_servers) -> Decimal:
    today = today_in_chile()
    values = [uf_value(today + timedelta(days=n)) for n in (-1, 0, 1)]
    envelopes = [new_envelope(v, account_id=PLATFORM_ACCOUNT, producer="indicator-feed") for v in values]
    await publish(bootstrap_servers, UF_VALUES.name, *envelopes)
    return values[1].clp_per_uf


@pytest.mark.parametrize("case", list(CASES))
async def test_the_online_quote_equals_the_order_billing_creates(bootstrap_servers, workers, todays_uf, case):
    anchor_of, cycle, lines = CASES[case]
    account_id = account()
    plan = plan_contracted(account_id, renewal_anchor=anchor_of(today_in_chile()), billing_cycle=cycle)
    await publish(bootstrap_servers, ACCOUNT_PLANS.name, plan)
    await eventually(store_knows(workers, account_id), what="the plan in the store")
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=workers["store"].url, headers=headers, timeout=30) as client:

        async def priced():
            answer = await quote(client, account_id, lines)
            return answer if answer["uf_value_known"] else None

        answer = await eventually(priced, what="a quote in pesos (the store has read today's UF value)")
    assert answer["accepted"] is True
    assert Decimal(answer["clp_per_uf"]) == todays_uf

    async with TopicReader(bootstrap_servers, BILLING_EVENTS.name) as events:
        await publish(
            bootstrap_servers,
            ACTIVATION_REQUESTS.name,
            activation_requested(account_id, *lines, mode=PaymentMode.ONLINE),
        )
        order = await found(events, account_id, "OrderCreated")

    assert order["order_date"] == answer["effective_date"]
    assert [{key: line[key] for key in LINE_FIELDS} for line in order["lines"]] == [
        {key: line[key] for key in LINE_FIELDS} for line in answer["lines"]
    ]
    assert (order["net_clp"], order["iva_clp"], order["total_clp"]) == (
        answer["due_now"]["net_clp"],
        answer["due_now"]["iva_clp"],
        answer["due_now"]["total_clp"],
    )


async def test_a_cart_the_store_refuses_is_quoted_with_the_same_reason_codes(bootstrap_servers, workers):
    account_id = account()
    await publish(bootstrap_servers, ACCOUNT_PLANS.name, plan_contracted(account_id, "EMPRENDE"))
    await eventually(store_knows(workers, account_id), what="the plan in the store")
    lines = [("MOD-BI", 1), ("RSO-EXTRA", 1), ("NO-EXISTE", 2)]
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=workers["store"].url, headers=headers, timeout=30) as client:
        answer = await quote(client, account_id, lines)
    async with TopicReader(bootstrap_servers, STORE_EVENTS.name) as events:
        await publish(bootstrap_servers, ACTIVATION_REQUESTS.name, activation_requested(account_id, *lines))
        rejected = await found(events, account_id, "ActivationRejected")
    assert answer["accepted"] is False
    assert [(r["line"], r["code"]) for r in answer["reasons"]] == [(r["line"], r["code"]) for r in rejected["reasons"]]
    assert {r["code"] for r in answer["reasons"]} >= {"not_sold_to_plan", "unknown_sku"}
