"""Billing's composition root: settings and clock in, the worker's definition out (consumer,
read and admin routes, and the scheduler)."""

from tienda.billing import SERVICE
from tienda.billing.adapters.tables import MIGRATIONS, messaging, metadata
from tienda.billing.config import BillingSettings
from tienda.billing.entrypoints import http
from tienda.billing.entrypoints.consumer import consumer
from tienda.billing.service_layer.renewal_runs import RenewalRuns
from tienda.billing.service_layer.scheduler import SchedulerPolicy, run_scheduler
from tienda.messaging.clock import Clock, system_clock
from tienda.messaging.worker import Runtime, ServiceDefinition


def policy(settings: BillingSettings) -> SchedulerPolicy:
    return SchedulerPolicy(
        retry_days=tuple(settings.autopay_retry_days),
        uf_hold_alert_after=settings.uf_hold_alert_after,
        payment_match_grace=settings.payment_match_grace,
        interval_seconds=settings.scheduler_interval_seconds,
    )


def definition(settings: BillingSettings, clock: Clock = system_clock) -> ServiceDefinition:
    scheduling = policy(settings)
    runs = RenewalRuns()

    async def scheduler(runtime: Runtime) -> None:
        runtime.monitoring.add_gauge(
            "tienda_billing_renewal_accounts_left",
            "Accounts still to renew in this worker's renewal run of a date (0 once it is over).",
            ["date"],
            lambda: [([progress.date.isoformat()], progress.left) for progress in runs.all()],
        )
        try:
            await run_scheduler(runtime.unit_of_work, clock, scheduling, runtime.leads, runs)
        finally:
            await runs.stop()

    return ServiceDefinition(
        SERVICE,
        metadata,
        messaging,
        MIGRATIONS,
        consumer(),
        http.routes(clock, runs),
        background=(scheduler,),
        clock=clock,
    )
