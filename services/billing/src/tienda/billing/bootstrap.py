"""Billing's composition root: handlers, read and admin routes, and the scheduler with its clock."""

from pathlib import Path

from tienda.billing import SERVICE
from tienda.billing.adapters.tables import messaging, metadata
from tienda.billing.config import BillingSettings
from tienda.billing.entrypoints.http import routes
from tienda.billing.service_layer.handlers import HANDLERS
from tienda.billing.service_layer.scheduler import Clock, SchedulerPolicy, run_scheduler, system_clock
from tienda.messaging.worker import Runtime, ServiceDefinition

MIGRATIONS = Path(__file__).parent / "migrations"


def policy(settings: BillingSettings) -> SchedulerPolicy:
    return SchedulerPolicy(
        retry_days=tuple(settings.autopay_retry_days),
        uf_hold_alert_after=settings.uf_hold_alert_after,
        interval_seconds=settings.scheduler_interval_seconds,
    )


def definition(settings: BillingSettings | None = None, clock: Clock = system_clock) -> ServiceDefinition:
    scheduling = policy(settings or BillingSettings())

    async def scheduler(runtime: Runtime) -> None:
        await run_scheduler(runtime.unit_of_work, clock, scheduling)

    return ServiceDefinition(SERVICE, metadata, messaging, MIGRATIONS, HANDLERS, routes(clock), background=(scheduler,))
