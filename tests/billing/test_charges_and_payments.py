"""Billing records each activation line's charge once and each gateway payment once."""

from datetime import date

from tests.billing.conftest import USERS, charge_scheduled, payment
from tests.samples import account
from tienda.contracts.types import PaymentMode

ACTIVATION = "2b0c4a7e-9c1f-4f7e-8a57-3f1e2d9b6c10"


async def test_a_scheduled_charge_is_recorded_line_by_line(billing):
    await billing.deliver(charge_scheduled(account(), date(2027, 2, 10), (USERS, 3), mode=PaymentMode.ONLINE))
    [row] = await billing.rows("charges")
    assert (row["sku"], row["quantity"], str(row["unit_price_uf"])) == ("USR-EXTRA", 3, "0.5000")


async def test_a_charge_for_an_account_whose_plan_has_not_arrived_waits_for_it(billing):
    await billing.deliver(charge_scheduled(account(), date(2027, 2, 10)))
    [row] = await billing.rows("charges")
    assert (row["status"], row["period_start"], row["order_id"]) == ("waiting_for_plan", None, None)


async def test_the_same_activation_announced_twice_is_charged_once(billing):
    account_id = account()
    await billing.deliver(charge_scheduled(account_id, date(2027, 2, 10), activation_id=ACTIVATION))
    await billing.deliver(charge_scheduled(account_id, date(2027, 2, 10), activation_id=ACTIVATION))
    assert len(await billing.rows("charges")) == 1


async def test_a_gateway_payment_delivered_three_times_is_recorded_once(billing):
    account_id = account()
    for _ in range(3):
        await billing.deliver(payment(account_id, "ORD-1001", 35_700, payment_id="wp-778899"))
    [recorded] = await billing.rows("payments")
    assert (recorded["payment_id"], recorded["amount_clp"]) == ("wp-778899", 35_700)
