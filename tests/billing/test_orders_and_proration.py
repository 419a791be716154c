"""Charges prorated by days in their period, and online activations as orders with pesos.

Prorated UF = unit price × months × quantity × days from the activation day (included)
to the period end / days in the period; each line in pesos at the UF of the order's date,
rounded half up once; IVA 19 % of the net, rounded half up.
"""

from datetime import date

from tests.billing.conftest import (
    DTE_100,
    USERS,
    charge_scheduled,
    payloads,
    plan_contracted,
    uf_published,
)
from tests.samples import account
from tienda.contracts.messages.plans import BillingCycle
from tienda.contracts.types import PaymentMode

ONLINE = PaymentMode.ONLINE


async def order_of(billing, account_id, effective, *lines, uf="39123.45"):
    await billing.deliver(uf_published(effective, uf))
    await billing.deliver(charge_scheduled(account_id, effective, *lines, mode=ONLINE))
    [order] = payloads(await billing.fresh(), "OrderCreated")
    return order


async def test_an_online_activation_becomes_an_order_with_a_payment_reference_and_its_pesos(billing):
    account_id = await billing.customer()
    order = await order_of(billing, account_id, date(2027, 2, 10), (USERS, 2), (DTE_100, 1))
    assert order["payment_reference"] == order["order_id"]
    assert order["order_id"].startswith("ORD-")
    # Period 31 Jan to 27 Feb 2027 (28 days); 10 to 27 Feb is 18 days.
    # 2 users: 1.0 UF × 18/28 × 39,123.45 = 25,150.79 -> 25,151; DTE: 0.35 × 18/28 × 39,123.45 = 8,802.78 -> 8,803.
    assert [(line["sku"], line["days"], line["period_days"], line["amount_clp"]) for line in order["lines"]] == [
        ("USR-EXTRA", 18, 28, 25_151),
        ("DTE-100", 18, 28, 8_803),
    ]
    assert (order["net_clp"], order["iva_clp"], order["total_clp"]) == (33_954, 6_451, 40_405)
    assert [line["amount_uf"] for line in order["lines"]] == ["0.6429", "0.2250"]
    [row] = await billing.rows("orders", account_id=account_id)
    assert (row["status"], row["total_clp"], row["paid_clp"]) == ("pending", 40_405, 0)


async def test_activation_on_the_first_day_of_a_period_costs_the_whole_period(billing):
    account_id = await billing.customer()
    order = await order_of(billing, account_id, date(2027, 1, 31), (USERS, 2))
    [line] = order["lines"]
    assert (line["days"], line["period_days"], line["amount_uf"], line["amount_clp"]) == (28, 28, "1.0000", 39_123)
    assert (order["iva_clp"], order["total_clp"]) == (7_433, 46_556)


async def test_activation_on_the_last_day_of_a_period_costs_one_days_share(billing):
    account_id = await billing.customer()
    order = await order_of(billing, account_id, date(2027, 2, 27), (USERS, 2))
    [line] = order["lines"]
    assert (line["period_start"], line["period_end"]) == ("2027-01-31", "2027-02-27")
    assert (line["days"], line["period_days"], line["amount_clp"]) == (1, 28, 1_397)  # 39,123.45 / 28 = 1,397.27


async def test_activation_on_the_first_day_of_the_next_period_falls_in_that_period(billing):
    account_id = await billing.customer()
    order = await order_of(billing, account_id, date(2027, 2, 28), (USERS, 2))
    [line] = order["lines"]
    assert (line["period_start"], line["period_end"], line["days"], line["period_days"]) == (
        "2027-02-28",
        "2027-03-30",
        31,
        31,
    )


async def test_an_anchor_on_31_january_shares_february_over_29_days_in_a_leap_year(billing):
    account_id = account()
    await billing.deliver(plan_contracted(account_id, anchor=date(2028, 1, 31)))
    order = await order_of(billing, account_id, date(2028, 2, 15), (USERS, 2), uf="39500.00")
    [line] = order["lines"]
    # 31 Jan to 28 Feb 2028 is 29 days; 15 to 28 Feb is 14: 1.0 × 14/29 × 39,500 = 19,068.97 -> 19,069.
    assert (line["period_end"], line["days"], line["period_days"], line["amount_clp"]) == ("2028-02-28", 14, 29, 19_069)


async def test_an_anchor_on_31_january_shares_february_over_28_days_in_a_common_year(billing):
    account_id = await billing.customer()
    order = await order_of(billing, account_id, date(2027, 2, 15), (USERS, 2), uf="39500.00")
    [line] = order["lines"]
    # 31 Jan to 27 Feb 2027 is 28 days; 15 to 27 Feb is 13: 1.0 × 13/28 × 39,500 = 18,339.29 -> 18,339.
    assert (line["period_end"], line["days"], line["period_days"], line["amount_clp"]) == ("2027-02-27", 13, 28, 18_339)


async def test_an_annual_account_prorates_twelve_months_of_price_over_the_days_of_its_year(billing):
    account_id = account()
    await billing.deliver(plan_contracted(account_id, anchor=date(2027, 3, 15), cycle=BillingCycle.ANNUAL))
    order = await order_of(billing, account_id, date(2027, 8, 27), (USERS, 2), uf="39300.00")
    [line] = order["lines"]
    # 15 Mar 2027 to 14 Mar 2028: 366 days (29 Feb 2028); 27 Aug to 14 Mar: 201 days.
    # 0.5 UF × 12 months × 2 users × 201/366 × 39,300 = 258,993.44 -> 258,993.
    assert (line["months"], line["days"], line["period_days"], line["amount_clp"]) == (12, 201, 366, 258_993)


async def test_an_at_renewal_activation_waits_for_the_renewal_invoice(billing):
    account_id = await billing.customer()
    await billing.deliver(charge_scheduled(account_id, date(2027, 2, 20), (DTE_100, 1)))
    assert payloads(await billing.fresh(), "OrderCreated") == []
    [row] = await billing.rows("charges", account_id=account_id)
    assert (row["status"], row["period_start"], row["period_end"]) == (
        "pending_renewal",
        date(2027, 1, 31),
        date(2027, 2, 27),
    )


async def test_charges_that_reached_billing_before_the_plan_are_placed_when_it_arrives(billing):
    account_id = account()
    await billing.deliver(uf_published(date(2027, 2, 10), "39123.45"))
    await billing.deliver(charge_scheduled(account_id, date(2027, 2, 10), (USERS, 2), mode=ONLINE))
    await billing.deliver(charge_scheduled(account_id, date(2027, 2, 12), (DTE_100, 1)))
    assert payloads(await billing.fresh(), "OrderCreated") == []

    await billing.deliver(plan_contracted(account_id, on=date(2027, 2, 1)))
    [order] = payloads(await billing.fresh(), "OrderCreated")
    assert [(line["sku"], line["amount_clp"]) for line in order["lines"]] == [("USR-EXTRA", 25_151)]
    statuses = {row["sku"]: row["status"] for row in await billing.rows("charges", account_id=account_id)}
    assert statuses == {"USR-EXTRA": "ordered", "DTE-100": "pending_renewal"}


async def test_a_charge_at_renewal_leaves_the_billing_view_as_it_was_and_publishes_no_snapshot(billing):
    account_id = await billing.customer()
    await billing.deliver(charge_scheduled(account_id, date(2027, 2, 10), (USERS, 2)))
    published = await billing.fresh()
    assert payloads(published, "BillingSnapshot") == []
    statuses = {row["sku"]: row["status"] for row in await billing.rows("charges", account_id=account_id)}
    assert statuses == {"USR-EXTRA": "pending_renewal"}


async def test_every_change_of_the_account_publishes_its_billing_snapshot(billing):
    account_id = await billing.customer()
    await billing.deliver(uf_published(date(2027, 2, 10), "39123.45"))
    await billing.deliver(charge_scheduled(account_id, date(2027, 2, 10), (USERS, 2), mode=ONLINE))
    [snapshot] = payloads(await billing.fresh(), "BillingSnapshot")
    assert snapshot["revision"] == 2
    assert snapshot["balance_due_clp"] == 29_930
    assert [(o["order_id"][:4], o["total_clp"]) for o in snapshot["pending_orders"]] == [("ORD-", 29_930)]
    assert (snapshot["plan"]["code"], snapshot["next_renewal"]) == ("PYME", "2027-02-28")
