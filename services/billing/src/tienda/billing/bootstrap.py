"""Billing's composition root: settings and clock in, the worker's definition out (consumer,
read and admin routes, and the scheduler)."""

from tienda.billing import SERVICE
from tienda.billing.adapters.tables import MIGRATIONS, messaging, metadata
from tienda.billing.config import BillingSettings
from tienda.billing.entrypoints import http
from tienda.billing.entrypoints.consumer import consumer
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

    async def scheduler(runtime: Runtime) -> None:
        await run_scheduler(runtime.unit_of_work, clock, scheduling, runtime.leads)

    return ServiceDefinition(
        SERVICE, metadata, messaging, MIGRATIONS, consumer(), http.routes(clock), background=(scheduler,), clock=clock
    )
