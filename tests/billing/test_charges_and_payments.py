"""Billing records each activation's charge once and each gateway payment once."""

from datetime import date

import pytest

from tests.harness import Harness, harness
from tests.samples import CAMILA, account, payment_received
from tienda.billing.bootstrap import definition
from tienda.contracts.envelope import new_envelope
from tienda.contracts.messages.activation import ChargeScheduled, PricedLine
from tienda.contracts.types import PaymentMode


@pytest.fixture
async def billing(engine) -> Harness:
    return await harness(definition(), engine)


def charge_scheduled(account_id, activation_id="2b0c4a7e-9c1f-4f7e-8a57-3f1e2d9b6c10"):
    payload = ChargeScheduled(
        activation_id=activation_id,
        request_id="req-1",
        requested_by=CAMILA,
        payment_mode=PaymentMode.ONLINE,
        effective_date=date(2026, 11, 25),
        lines=[PricedLine(sku="USR-EXTRA", description="Usuario adicional", quantity=3, unit_price_uf="0.5000")],
    )
    return new_envelope(payload, account_id=account_id, producer="store")


async def test_a_scheduled_charge_is_recorded_line_by_line(billing):
    await billing.deliver(charge_scheduled(account()))
    [row] = await billing.rows("charges")
    assert (row["sku"], row["quantity"], str(row["unit_price_uf"])) == ("USR-EXTRA", 3, "0.5000")


async def test_the_same_activation_announced_twice_is_charged_once(billing):
    account_id = account()
    await billing.deliver(charge_scheduled(account_id))
    await billing.deliver(charge_scheduled(account_id))
    assert len(await billing.rows("charges")) == 1


async def test_a_gateway_payment_delivered_three_times_is_recorded_once(billing):
    account_id = account()
    for _ in range(3):
        await billing.deliver(payment_received(account_id, "ORD-1001", 35_700, payment_id="wp-778899"))
    [payment] = await billing.rows("payments")
    assert (payment["payment_id"], payment["amount_clp"]) == ("wp-778899", 35_700)
