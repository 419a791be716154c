"""The store's composition root: settings and clock in, the worker's definition out (consumer,
read routes, and the scheduler that refuses requests that waited too long for a plan)."""

from tienda.messaging.clock import Clock, system_clock
from tienda.messaging.worker import Runtime, ServiceDefinition
from tienda.store import SERVICE
from tienda.store.adapters.tables import MIGRATIONS, messaging, metadata
from tienda.store.config import StoreSettings
from tienda.store.entrypoints import http
from tienda.store.entrypoints.consumer import consumer
from tienda.store.service_layer.scheduler import SchedulerPolicy, run_scheduler


def policy(settings: StoreSettings) -> SchedulerPolicy:
    return SchedulerPolicy(wait=settings.unknown_account_wait, interval_seconds=settings.scheduler_interval_seconds)


def definition(settings: StoreSettings, clock: Clock = system_clock) -> ServiceDefinition:
    scheduling = policy(settings)

    async def scheduler(runtime: Runtime) -> None:
        await run_scheduler(runtime.unit_of_work, scheduling)

    return ServiceDefinition(
        SERVICE,
        metadata,
        messaging,
        MIGRATIONS,
        consumer(),
        http.routes(clock, scheduling.wait),
        background=(scheduler,),
        clock=clock,
    )
