"""The scheduler inside the worker, on an injected clock; plan changes, suspension and reinstatement."""

import asyncio
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from tests.billing.conftest import Billing, charge_scheduled, of_type, payloads, plan_contracted, uf_published
from tests.harness import harness
from tests.samples import account
from tests.waiting import eventually
from tienda.billing.bootstrap import definition
from tienda.billing.config import BillingSettings
from tienda.billing.service_layer.scheduler import SchedulerPolicy, run_scheduler
from tienda.contracts.envelope import new_envelope
from tienda.contracts.messages.plans import AccountReinstated, AccountSuspended
from tienda.contracts.types import PaymentMode


class SteppedClock:
    """A clock set by the test, which tells when it has been read ``n`` times."""

    def __init__(self, now: datetime) -> None:
        self.now, self.reads = now, 0
        self._read = asyncio.Condition()

    def __call__(self) -> datetime:
        self.reads += 1
        asyncio.get_running_loop().create_task(self._tell())
        return self.now

    async def _tell(self) -> None:
        async with self._read:
            self._read.notify_all()

    async def read(self, times: int) -> None:
        async with self._read:
            await asyncio.wait_for(self._read.wait_for(lambda: self.reads >= times), 5)


async def test_the_scheduler_renews_by_the_injected_clock_until_it_is_cancelled(billing):
    await billing.deliver(uf_published(date(2027, 2, 28), "39200.00"))
    account_id = await billing.customer()
    clock = SteppedClock(datetime(2027, 2, 27, 12, tzinfo=UTC))
    task = asyncio.create_task(run_scheduler(billing.unit_of_work, clock, SchedulerPolicy(interval_seconds=0.01)))
    try:
        await clock.read(2)  # the tick of 27 February is over: the next one has begun
        assert await billing.rows("invoices", account_id=account_id) == []
        clock.now = datetime(2027, 2, 28, 12, tzinfo=UTC)
        [invoice] = await eventually(lambda: billing.rows("invoices", account_id=account_id), what="the renewal")
    finally:
        task.cancel()
    assert (invoice["period_start"], invoice["total_clp"]) == (date(2027, 2, 28), 116_620)


def test_the_scheduler_settings_are_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("TIENDA_BILLING_AUTOPAY_RETRY_DAYS", "[2, 4]")
    monkeypatch.setenv("TIENDA_BILLING_UF_HOLD_ALERT_MINUTES", "90")
    monkeypatch.setenv("TIENDA_BILLING_SCHEDULER_INTERVAL_SECONDS", "15")
    settings = BillingSettings()
    assert (settings.autopay_retry_days, settings.uf_hold_alert_after, settings.scheduler_interval_seconds) == (
        [2, 4],
        timedelta(minutes=90),
        15,
    )


async def test_the_worker_runs_the_scheduler_with_the_settings_it_was_given(engine):
    """The hold-alert limit and the interval of the settings reach the worker's scheduler: with the
    defaults (6 hours, 60 s) no alert would come within the wait."""
    settings = BillingSettings(uf_hold_alert_minutes=90, scheduler_interval_seconds=0.01)
    clock = SteppedClock(datetime.now(UTC))
    worker = definition(settings, clock=clock)
    billing = Billing(await harness(worker, engine))
    account_id = await billing.customer()
    await billing.deliver(charge_scheduled(account_id, date(2027, 2, 10), mode=PaymentMode.ONLINE))  # held: no UF
    await billing.fresh()
    held_at = clock.now
    [scheduler] = worker.background
    clock.now, seen = held_at + timedelta(minutes=80), clock.reads
    task = asyncio.create_task(scheduler(SimpleNamespace(unit_of_work=billing.h.unit_of_work, leads=lambda: True)))  # type: ignore[arg-type]
    try:
        await clock.read(seen + 2)  # a whole tick 80 minutes after the hold: under the limit
        assert of_type(await billing.fresh(), "OperationsAlert") == []
        clock.now = held_at + timedelta(minutes=100)

        async def alerts() -> list[dict[str, Any]]:
            return of_type(await billing.h.relay(), "OperationsAlert")

        raised = await eventually(alerts, timeout=5, what="the hold alert")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert [alert["payload"]["kind"] for alert in raised] == ["uf_value_missing"]


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
