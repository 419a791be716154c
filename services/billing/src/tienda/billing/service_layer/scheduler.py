"""The scheduler inside the billing worker: renewals, autopay retries, UF hold alerts and payments
that waited too long for their document, driven by an injectable clock so that tests (and
operators) can set the day."""

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from tienda.billing.domain.autopay import DEFAULT_RETRY_DAYS
from tienda.billing.service_layer import autopay, payments, renewal, uf_holds
from tienda.billing.service_layer.renewal_runs import RenewalProgress, RenewalRuns
from tienda.contracts.business_day import business_date
from tienda.messaging.clock import Clock
from tienda.messaging.periodic import every
from tienda.messaging.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SchedulerPolicy:
    retry_days: Sequence[int] = DEFAULT_RETRY_DAYS
    uf_hold_alert_after: timedelta = timedelta(hours=6)
    payment_match_grace: timedelta = timedelta(hours=24)
    interval_seconds: float = 60.0


@dataclass
class TickReport:
    at: datetime
    renewals: int = 0
    """Renewal invoices issued by the day's renewal run (a run this tick joined counts all of its own)."""
    retried: int = 0
    gave_up: int = 0
    hold_alerts: int = 0
    unmatched: int = 0


async def tick(
    uow_factory: Callable[[], UnitOfWork], now: datetime, policy: SchedulerPolicy, runs: RenewalRuns | None = None
) -> TickReport:
    """Everything that is due at ``now``: the day's renewals (in Chile), retries, hold alerts, and
    the payments whose grace for their document is over. The renewals go through ``runs`` (joining
    a run of the same date an operator started) when given."""
    report = TickReport(now)
    report.renewals = (await renew(uow_factory, business_date(now), now, runs)).invoices
    retries = await autopay.retry_due(uow_factory, now, policy.retry_days)
    report.retried, report.gave_up = retries.retried, retries.gave_up
    report.hold_alerts = await uf_holds.alert_old_holds(uow_factory, now, policy.uf_hold_alert_after)
    report.unmatched = await payments.raise_unmatched(uow_factory, now, policy.payment_match_grace)
    return report


async def renew(
    uow_factory: Callable[[], UnitOfWork], on: date, now: datetime, runs: RenewalRuns | None
) -> RenewalProgress:
    """The counts of ``on``'s renewal run, once it is over."""
    if runs is None:
        return await renewal.renew_due_accounts(uow_factory, on, now)

    async def job(progress: RenewalProgress) -> RenewalProgress:
        return await renewal.renew_due_accounts(uow_factory, on, now, progress)

    return await asyncio.shield(runs.start_or_join(on, job))


async def run_scheduler(
    uow_factory: Callable[[], UnitOfWork],
    clock: Clock,
    policy: SchedulerPolicy,
    leads: Callable[[], bool] = lambda: True,
    runs: RenewalRuns | None = None,
) -> None:
    """Tick every ``policy.interval_seconds`` while this replica ``leads`` (one replica renews and
    retries), until cancelled; a failed tick is logged and retried next time."""

    async def step() -> None:
        report = await tick(uow_factory, clock(), policy, runs)
        if report.renewals or report.retried or report.gave_up or report.hold_alerts or report.unmatched:
            log.info(
                "scheduler: %d renewal invoice(s), %d autopay retr(ies), %d given up, %d hold alert(s), "
                "%d unmatched payment(s)",
                report.renewals,
                report.retried,
                report.gave_up,
                report.hold_alerts,
                report.unmatched,
            )

    await every(policy.interval_seconds, step, "billing's scheduler tick", leads)
