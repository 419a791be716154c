"""The store's composition root: settings and clock in, the worker's definition out (consumer,
read routes, served by a read process of their own, and the scheduler that refuses requests that
waited too long for a plan)."""

from tienda.messaging.clock import Clock, system_clock
from tienda.messaging.reads import ReadRoutes
from tienda.messaging.worker import Runtime, ServiceDefinition
from tienda.store import SERVICE
from tienda.store.adapters.tables import MIGRATIONS, messaging, metadata
from tienda.store.config import StoreSettings
from tienda.store.entrypoints import http
from tienda.store.entrypoints.consumer import consumer
from tienda.store.service_layer.scheduler import SchedulerPolicy, run_scheduler


def policy(settings: StoreSettings) -> SchedulerPolicy:
    return SchedulerPolicy(wait=settings.unknown_account_wait, interval_seconds=settings.scheduler_interval_seconds)


def read_routes(settings: StoreSettings, clock: Clock = system_clock) -> ReadRoutes:
    return http.routes(clock, settings.unknown_account_wait)


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
        read_routes=read_routes(settings, clock),
        read_process="tienda.store.reads",
        background=(scheduler,),
        clock=clock,
    )
