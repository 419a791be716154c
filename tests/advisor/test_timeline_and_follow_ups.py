"""The commercial timeline from store, gateway and billing events, and the follow-ups it raises:
failed autopay → payment, a new module → training, rejected by plan limits → upgrade."""

from datetime import UTC, date, datetime

import pytest

from tests.advisor.samples import (
    ACTIVATION_ID,
    CAMILA,
    INVENTORY,
    USERS,
    activation_completed,
    activation_rejected,
    autopay_failed,
    charge_scheduled,
    executive_assigned,
    request_updated,
    settings,
)
from tests.harness import Harness, harness
from tests.samples import account, payment_received
from tienda.advisor.bootstrap import definition
from tienda.contracts.envelope import new_envelope
from tienda.contracts.messages.advisor import RequestStatus
from tienda.contracts.messages.billing import (
    DocumentKind,
    DocumentLine,
    DocumentStatus,
    LineKind,
    OrderCreated,
    PaymentRecorded,
)
from tienda.contracts.messages.store import ReducedLine, ReductionScheduled


@pytest.fixture
async def advisor(engine) -> Harness:
    return await harness(definition(settings()), engine)


async def test_an_activation_is_written_on_the_timeline_as_before(advisor):
    account_id = account()
    await advisor.deliver(activation_completed(account_id, USERS))
    [entry] = await advisor.rows("timeline")
    assert (entry["account_id"], entry["kind"]) == (account_id, "activation_completed")
    assert entry["summary"] == "Camila Rojas activated 3 × Usuario adicional (at renewal)"
    assert await advisor.rows("follow_ups") == []


async def test_a_failed_autopay_after_the_last_retry_raises_a_payment_follow_up(advisor):
    account_id = account()
    failed = autopay_failed(account_id, "F-2026-004512", 89_250)
    await advisor.deliver(failed)
    [raised] = await advisor.relay()
    assert raised["type"] == "FollowUpRaised"
    assert raised["causation_id"] == str(failed.event_id)
    payload = raised["payload"]
    assert (payload["kind"], payload["reference"], payload["executive"]["executive_id"]) == (
        "payment",
        "F-2026-004512",
        "ej-paula",
    )
    assert "$89.250" in payload["summary"]
    # Monday 10:00 in Santiago plus 16 business hours: Tuesday 17:00 (20:00 UTC).
    assert payload["due_at"] == "2026-03-17T20:00:00Z"
    [entry] = await advisor.rows("timeline")
    assert entry["kind"] == "autopay_failed"
    assert entry["summary"].endswith("payment follow-up raised")


async def test_the_same_autopay_failure_announced_twice_raises_one_follow_up(advisor):
    account_id = account()
    await advisor.deliver(autopay_failed(account_id))
    await advisor.deliver(autopay_failed(account_id))
    assert len(await advisor.rows("follow_ups")) == 1
    assert len(await advisor.rows("timeline")) == 1
    assert len(await advisor.relay()) == 1


async def test_a_new_module_activated_raises_an_offer_of_training_on_it(advisor):
    account_id = account()
    await advisor.deliver(activation_completed(account_id, USERS, INVENTORY))
    [raised] = await advisor.relay()
    assert (raised["payload"]["kind"], raised["payload"]["reference"]) == ("training", "MOD-INV")
    assert "Módulo Inventario" in raised["payload"]["summary"]
    [entry] = await advisor.rows("timeline")
    assert entry["summary"].endswith("training offered on Módulo Inventario")


@pytest.mark.parametrize("code", ["not_sold_to_plan", "quantity_out_of_bounds"])
async def test_an_activation_rejected_by_the_plans_limits_opens_an_upgrade_conversation(advisor, code):
    account_id = account()
    await advisor.deliver(activation_rejected(account_id, code))
    [raised] = await advisor.relay()
    assert (raised["payload"]["kind"], raised["payload"]["reference"]) == ("upgrade", "req-2")


@pytest.mark.parametrize(
    "code", ["module_already_active", "missing_dependency", "unknown_account", "account_suspended", "unknown_sku"]
)
async def test_an_activation_rejected_for_another_reason_is_only_on_the_timeline(advisor, code):
    await advisor.deliver(activation_rejected(account(), code))
    assert await advisor.relay() == []
    [entry] = await advisor.rows("timeline")
    assert entry["kind"] == "activation_rejected"


async def test_one_upgrade_conversation_is_open_at_a_time(advisor):
    account_id = account()
    await advisor.deliver(activation_rejected(account_id, "quantity_out_of_bounds", request_id="req-a"))
    await advisor.deliver(activation_rejected(account_id, "not_sold_to_plan", request_id="req-b"))
    [upgrade] = await advisor.rows("follow_ups")
    assert len(await advisor.rows("timeline")) == 2
    await advisor.deliver(request_updated(account_id, upgrade["follow_up_id"], RequestStatus.RESOLVED))
    await advisor.deliver(activation_rejected(account_id, "not_sold_to_plan", request_id="req-c"))
    assert sorted(row["reference"] for row in await advisor.rows("follow_ups")) == ["req-a", "req-c"]


async def test_a_follow_up_moves_to_the_executive_the_crm_assigns(advisor):
    account_id = account()
    await advisor.deliver(autopay_failed(account_id))
    await advisor.deliver(executive_assigned(account_id))
    moved = (await advisor.relay())[-1]
    assert (moved["type"], moved["payload"]["executive"]["executive_id"], moved["payload"]["reassigned_from"]) == (
        "FollowUpRaised",
        "ej-ignacio",
        "ej-paula",
    )


async def test_charges_and_payments_are_on_the_timeline_once_per_business_key(advisor):
    account_id = account()
    await advisor.deliver(charge_scheduled(account_id))
    await advisor.deliver(charge_scheduled(account_id))
    for _ in range(2):
        await advisor.deliver(payment_received(account_id, "ORD-2026-0042", 42_900, payment_id="wp-778899"))
    entries = await advisor.rows("timeline")
    assert sorted(row["kind"] for row in entries) == ["charge_scheduled", "payment_received"]
    [payment] = [row for row in entries if row["kind"] == "payment_received"]
    assert payment["summary"] == "Camila Rojas paid $42.900 for ORD-2026-0042 by webpay"


def document_line():
    return DocumentLine(
        kind=LineKind.PRORATED,
        description="Usuario adicional",
        sku="USR-EXTRA",
        quantity=3,
        unit_price_uf="0.5000",
        months=1,
        period_start=date(2026, 3, 1),
        period_end=date(2026, 3, 31),
        days=16,
        period_days=31,
        amount_uf="0.7742",
        uf_date=date(2026, 3, 16),
        clp_per_uf="39876.54",
        amount_clp=30_872,
    )


async def test_orders_invoices_payments_and_reductions_are_on_the_timeline(advisor):
    account_id = account()
    order = OrderCreated(
        order_id="ORD-2026-0042",
        payment_reference="ORD-2026-0042",
        activation_id=ACTIVATION_ID,
        request_id="req-1",
        ordered_by=CAMILA,
        order_date=date(2026, 3, 16),
        lines=[document_line()],
        net_clp=30_872,
        iva_clp=5_866,
        total_clp=36_738,
    )
    recorded = PaymentRecorded(
        payment_id="wp-1",
        reference="ORD-2026-0042",
        document_id="ORD-2026-0042",
        document_kind=DocumentKind.ORDER,
        amount_clp=20_000,
        method="webpay",
        paid_by="Camila Rojas",
        paid_at=datetime(2026, 3, 17, 12, 0, tzinfo=UTC),
        applied_clp=20_000,
        credit_clp=0,
        balance_due_clp=16_738,
        document_status=DocumentStatus.PARTIALLY_PAID,
    )
    reduction = ReductionScheduled(
        reduction_id="7d6f1f0e-2a4b-4c3d-9e8f-1a2b3c4d5e6f",
        request_id="red-1",
        requested_by=CAMILA,
        requested_on=date(2026, 3, 18),
        lines=[
            ReducedLine(
                sku="USR-EXTRA",
                description="Usuario adicional",
                resource="users",
                quantity=2,
                units=2,
                unit_price_uf="0.5000",
            )
        ],
        entitlements_after=[],
    )
    for payload in (order, recorded, reduction):
        await advisor.deliver(new_envelope(payload, account_id=account_id, producer="billing"))
    summaries = {row["kind"]: row["summary"] for row in await advisor.rows("timeline")}
    assert summaries == {
        "order_created": "Camila Rojas placed online order ORD-2026-0042 for $36.738, waiting for payment "
        "(reference ORD-2026-0042)",
        "payment_recorded": "Payment of $20.000 by Camila Rojas applied to order ORD-2026-0042, $16.738 still due",
        "reduction_scheduled": "Camila Rojas scheduled the removal of 2 × Usuario adicional at the next renewal",
    }
