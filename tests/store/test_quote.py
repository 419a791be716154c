"""POST /accounts/{id}/cart/quote: the store judges a cart by the activation's own rules and prices it
as billing will, without writing anything. Real handlers and database, the worker's HTTP surface."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from tests.harness import harness
from tests.samples import CAMILA, account
from tests.samples_store import account_suspended, plan_contracted, reduction_requested
from tests.store.conftest import CONTRACTED_IN_2026, fresh, of_type, reasons
from tienda.contracts.envelope import new_envelope
from tienda.contracts.messages.activation import ActivationRequested, CartLine
from tienda.contracts.messages.billing import UfValuePublished
from tienda.contracts.topics import PLATFORM_ACCOUNT
from tienda.contracts.types import PaymentMode
from tienda.messaging.http import TokenRing
from tienda.store.bootstrap import definition
from tienda.store.config import StoreSettings

NOW = datetime(2027, 2, 3, 15, 0, tzinfo=UTC)
"""Noon in Santiago on 3 February 2027; the sample plan is anchored on the 15th (period 15 January to 14 February)."""
TOKENS = TokenRing({"erp-web": ["*"], "solo-otra": ["acc-otra"]})
UF_3_FEB = Decimal("39000.00")


@pytest.fixture
async def store(engine):
    return await harness(definition(StoreSettings(), clock=lambda: NOW), engine)


@pytest.fixture
async def http(store):
    async with store.http(TOKENS) as client:
        yield client


@pytest.fixture
async def customer(store) -> str:
    account_id = account()
    await store.deliver(plan_contracted(account_id, occurred_at=CONTRACTED_IN_2026))
    await fresh(store)
    return account_id


async def uf_published(store, value=UF_3_FEB) -> None:
    payload = UfValuePublished(uf_date=NOW.date(), clp_per_uf=value)
    await store.deliver(new_envelope(payload, account_id=PLATFORM_ACCOUNT, producer="indicator-feed"))


def cart(*lines: tuple[str, int], mode: str = "online") -> dict[str, Any]:
    return {"payment_mode": mode, "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines]}


async def quote(http, account_id: str, body: dict[str, Any], token: str = "erp-web") -> dict[str, Any]:
    response = await http.post(
        f"/accounts/{account_id}/cart/quote", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    return response.json()


async def activated(store, account_id: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The same cart sent as an ActivationRequested at the quote's moment: what the store published."""
    payload = ActivationRequested(
        request_id="cart-1",
        requested_by=CAMILA,
        payment_mode=PaymentMode(body["payment_mode"]),
        lines=[CartLine(**line) for line in body["lines"]],
    )
    await store.deliver(new_envelope(payload, account_id=account_id, producer="erp-web", occurred_at=NOW))
    return await fresh(store)


async def test_a_quote_prices_each_line_in_its_period_in_pesos_at_todays_uf(store, http, customer):
    await uf_published(store)
    answer = await quote(http, customer, cart(("USR-EXTRA", 3), ("TRB-EXTRA", 25)))

    assert answer["accepted"] is True
    assert answer["reasons"] == []
    assert (answer["effective_date"], answer["uf_value_known"], answer["clp_per_uf"]) == (
        "2027-02-03",
        True,
        "39000.00",
    )
    users, workers = answer["lines"]
    assert (users["period_start"], users["period_end"], users["days"], users["period_days"]) == (
        "2027-01-15",
        "2027-02-14",
        12,
        31,
    )
    # 0.50 × 3 × 12 / 31 = 0.580645... UF × 39,000 = 22,645.16 → 22,645 pesos
    assert (users["unit_price_uf"], users["months"], users["amount_uf"], users["amount_clp"]) == (
        "0.5000",
        1,
        "0.5806",
        22_645,
    )
    # 0.05 × 25 × 12 / 31 = 0.483870... UF × 39,000 = 18,870.97 → 18,871 pesos
    assert (workers["amount_uf"], workers["amount_clp"]) == ("0.4839", 18_871)
    assert answer["due_now"] == {"net_clp": 41_516, "iva_clp": 7_888, "total_clp": 49_404}  # IVA 7,888.04
    assert answer["added_to_next_renewal"] is None
    assert answer["next_renewal"] == "2027-02-15"
    assert answer["recurring"]["from_date"] == "2027-02-15"
    assert Decimal(answer["recurring"]["amount_uf"]) == Decimal("2.7500")  # 1.50 + 1.25 UF a month
    assert answer["recurring"]["estimate_clp"]["net_clp"] == 58_500 + 48_750


async def test_at_renewal_the_same_amounts_are_added_to_the_next_renewal(store, http, customer):
    await uf_published(store)
    online = await quote(http, customer, cart(("USR-EXTRA", 3)))
    at_renewal = await quote(http, customer, cart(("USR-EXTRA", 3), mode="at_renewal"))
    assert at_renewal["due_now"] is None
    assert at_renewal["added_to_next_renewal"] == online["due_now"]
    assert at_renewal["lines"] == online["lines"]


async def test_without_todays_uf_value_the_quote_says_so_and_gives_uf_amounts(http, customer):
    answer = await quote(http, customer, cart(("USR-EXTRA", 3)))
    assert answer["accepted"] is True
    assert (answer["uf_value_known"], answer["clp_per_uf"], answer["due_now"]) == (False, None, None)
    [line] = answer["lines"]
    assert (line["amount_uf"], line["amount_clp"]) == ("0.5806", None)
    assert answer["amount_uf"] == "0.5806"


async def test_the_quoted_cart_is_the_one_the_activation_charges(store, http, customer):
    await uf_published(store)
    body = cart(("USR-EXTRA", 3), ("MOD-INV", 1), ("DTE-100", 2))
    answer = await quote(http, customer, body)
    [charge] = of_type(await activated(store, customer, body), "ChargeScheduled")
    assert charge["payload"]["effective_date"] == answer["effective_date"]
    assert [(line["sku"], line["quantity"], line["unit_price_uf"]) for line in charge["payload"]["lines"]] == [
        (line["sku"], line["quantity"], line["unit_price_uf"]) for line in answer["lines"]
    ]


@pytest.mark.parametrize(
    "lines",
    [
        [("NO-EXISTE", 1), ("USR-EXTRA", 0 + 500)],
        [("MOD-BI", 1)],
        [("USR-EXTRA", 1), ("USR-EXTRA", 2)],
        [("MOD-PROD", 1), ("RSO-EXTRA", 1)],
    ],
)
async def test_a_cart_the_activation_would_refuse_is_refused_with_the_same_reason_codes(store, http, customer, lines):
    answer = await quote(http, customer, cart(*lines))
    [rejected] = of_type(await activated(store, customer, cart(*lines)), "ActivationRejected")
    assert answer["accepted"] is False
    assert answer["lines"] == []
    assert answer["due_now"] is None
    assert [(reason["line"], reason["code"]) for reason in answer["reasons"]] == reasons(rejected)
    assert answer["reasons"] == rejected["payload"]["reasons"]


async def test_a_suspended_account_is_refused_as_the_activation_refuses_it(store, http, customer):
    await store.deliver(account_suspended(customer))
    await fresh(store)
    answer = await quote(http, customer, cart(("USR-EXTRA", 1)))
    [rejected] = of_type(await activated(store, customer, cart(("USR-EXTRA", 1))), "ActivationRejected")
    assert (
        [reason["code"] for reason in answer["reasons"]] == ["account_suspended"] == [r[1] for r in reasons(rejected)]
    )


async def test_a_module_whose_removal_is_scheduled_is_judged_as_the_activation_judges_it(store, http, customer):
    bought = ActivationRequested(
        request_id="cart-inventario",
        requested_by=CAMILA,
        payment_mode=PaymentMode.ONLINE,
        lines=[CartLine(sku="MOD-INV", quantity=1)],
    )
    await store.deliver(new_envelope(bought, account_id=customer, producer="erp-web", occurred_at=NOW))
    await store.deliver(reduction_requested(customer, ("MOD-INV", 1), occurred_at=NOW))
    assert of_type(await fresh(store), "ReductionScheduled")
    body = cart(("MOD-INV", 1), ("MOD-PROD", 1))
    answer = await quote(http, customer, body)
    [rejected] = of_type(await activated(store, customer, body), "ActivationRejected")
    assert answer["reasons"] == rejected["payload"]["reasons"]
    assert "removal at the next renewal is already scheduled" in answer["reasons"][0]["message"]


async def test_an_account_the_store_has_no_plan_for_is_refused_as_unknown_account(http):
    answer = await quote(http, account(), cart(("USR-EXTRA", 1), ("NO-EXISTE", 1)))
    assert answer["accepted"] is False
    assert [(reason["line"], reason["code"]) for reason in answer["reasons"]] == [
        (None, "unknown_account"),
        (2, "unknown_sku"),
    ]


async def test_a_quote_writes_nothing(store, http, customer):
    await uf_published(store)
    await fresh(store)
    before = {table: await store.rows(table) for table in ("activations", "outbox", "inbox", "entitlements")}
    await quote(http, customer, cart(("USR-EXTRA", 3)))
    assert {table: await store.rows(table) for table in before} == before
    assert await fresh(store) == []


async def test_a_quote_needs_a_token_for_the_account_and_a_valid_cart(http, customer):
    other = await http.post(
        f"/accounts/{customer}/cart/quote", json=cart(("USR-EXTRA", 1)), headers={"Authorization": "Bearer solo-otra"}
    )
    assert other.status_code == 403
    missing = await http.post(f"/accounts/{customer}/cart/quote", json=cart(("USR-EXTRA", 1)))
    assert missing.status_code == 401
    empty = await http.post(
        f"/accounts/{customer}/cart/quote",
        json={"payment_mode": "online", "lines": []},
        headers={"Authorization": "Bearer erp-web"},
    )
    assert empty.status_code == 422
    assert "lines" in empty.json()["detail"]


async def test_the_first_uf_value_of_a_day_is_kept(store, http, customer):
    await uf_published(store)
    await uf_published(store, value=Decimal("39999.99"))
    answer = await quote(http, customer, cart(("USR-EXTRA", 1)))
    assert answer["clp_per_uf"] == "39000.00"
