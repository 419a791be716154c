"""The scheduler inside the worker, on an injected clock; plan changes, suspension and reinstatement."""

import asyncio
from datetime import UTC, date, datetime

from tests.billing.conftest import payloads, plan_contracted, uf_published
from tests.samples import account
from tests.waiting import eventually
from tienda.billing.bootstrap import definition
from tienda.billing.config import BillingSettings
from tienda.billing.service_layer.scheduler import SchedulerPolicy, run_scheduler
from tienda.contracts.envelope import new_envelope
from tienda.contracts.messages.plans import AccountReinstated, AccountSuspended


async def test_the_scheduler_renews_by_the_injected_clock_until_it_is_cancelled(billing):
    await billing.deliver(uf_published(date(2027, 2, 28), "39200.00"))
    account_id = await billing.customer()
    clock = [datetime(2027, 2, 27, 12, tzinfo=UTC)]
    task = asyncio.create_task(
        run_scheduler(billing.unit_of_work, lambda: clock[0], SchedulerPolicy(interval_seconds=0.01))
    )
    try:
        await asyncio.sleep(0.05)
        assert await billing.rows("invoices", account_id=account_id) == []
        clock[0] = datetime(2027, 2, 28, 12, tzinfo=UTC)
        [invoice] = await eventually(lambda: billing.rows("invoices", account_id=account_id), what="the renewal")
    finally:
        task.cancel()
    assert (invoice["period_start"], invoice["total_clp"]) == (date(2027, 2, 28), 116_620)


def test_the_worker_runs_the_scheduler_with_the_settings_it_was_given(monkeypatch):
    monkeypatch.setenv("TIENDA_BILLING_AUTOPAY_RETRY_DAYS", "[2, 4]")
    monkeypatch.setenv("TIENDA_BILLING_UF_HOLD_ALERT_MINUTES", "90")
    monkeypatch.setenv("TIENDA_BILLING_SCHEDULER_INTERVAL_SECONDS", "15")
    settings = BillingSettings()
    assert (settings.autopay_retry_days, settings.uf_hold_alert_after.total_seconds()) == ([2, 4], 5_400)
    [scheduler] = definition(settings, clock=lambda: datetime(2027, 2, 28, tzinfo=UTC)).background
    assert callable(scheduler)


async def test_a_plan_change_applies_its_price_from_the_next_renewal(billing):
    for day, value in [(date(2027, 2, 28), "39200.00")]:
        await billing.deliver(uf_published(day, value))
    account_id = await billing.customer()
    await billing.deliver(plan_contracted(account_id, plan_code="PYME-PLUS", price="3.9000", on=date(2027, 2, 15)))
    await billing.renew(date(2027, 2, 28))
    [invoice] = payloads(await billing.fresh(), "InvoiceIssued")
    assert [(line["sku"], line["unit_price_uf"], line["amount_clp"]) for line in invoice["lines"]] == [
        ("PYME-PLUS", "3.9000", 152_880)  # 3.9 × 39,200
    ]


async def test_suspension_and_reinstatement_show_in_the_billing_view(billing):
    account_id = await billing.customer()
    reason = "Facturas impagas de enero"
    await billing.deliver(new_envelope(AccountSuspended(reason=reason), account_id=account_id, producer="erp-web"))
    [suspended] = payloads(await billing.fresh(), "BillingSnapshot")
    await billing.deliver(new_envelope(AccountReinstated(), account_id=account_id, producer="erp-web"))
    [reinstated] = payloads(await billing.fresh(), "BillingSnapshot")
    assert (suspended["plan"]["suspended"], reinstated["plan"]["suspended"]) == (True, False)
    assert reinstated["revision"] == suspended["revision"] + 1


async def test_a_suspension_of_an_account_billing_does_not_know_changes_nothing(billing):
    account_id = account()
    await billing.deliver(new_envelope(AccountSuspended(reason="x"), account_id=account_id, producer="erp-web"))
    assert await billing.fresh() == []
