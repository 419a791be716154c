"""The advisor's composition root: settings and clock in, the worker's definition out (consumer,
read routes, and the overdue check)."""

from tienda.advisor import SERVICE
from tienda.advisor.adapters.tables import MIGRATIONS, messaging, metadata
from tienda.advisor.config import AdvisorSettings
from tienda.advisor.domain.assignment import Executive
from tienda.advisor.domain.calendar import BusinessCalendar
from tienda.advisor.domain.policy import AdvisorPolicy
from tienda.advisor.domain.triage import triage
from tienda.advisor.entrypoints import http
from tienda.advisor.entrypoints.consumer import consumer
from tienda.advisor.service_layer.scheduler import run_scheduler
from tienda.messaging.clock import Clock, system_clock
from tienda.messaging.worker import Runtime, ServiceDefinition


def policy(settings: AdvisorSettings) -> AdvisorPolicy:
    return AdvisorPolicy(
        rotation=tuple(Executive(entry.id, entry.name, str(entry.email)) for entry in settings.executives),
        calendar=BusinessCalendar(settings.business_day_opens, settings.business_day_closes).with_holidays(
            settings.extra_holidays
        ),
        first_response_business_hours=settings.first_response_business_hours,
        follow_up_business_hours=settings.follow_up_business_hours,
    )


def warm_up(advising: AdvisorPolicy, clock: Clock) -> None:
    """Load the support classifier and this year's holidays now, at the worker's start, so that the
    first request does not pay for them (about 25 ms and 5 MiB for the model)."""
    triage(kind_is_support=False, text="Quisiéramos cotizar el módulo de Inventario para dos bodegas.")
    advising.calendar.add_business_hours(clock(), advising.first_response_business_hours)


def definition(settings: AdvisorSettings, clock: Clock = system_clock) -> ServiceDefinition:
    advising = policy(settings)
    warm_up(advising, clock)

    async def scheduler(runtime: Runtime) -> None:
        await run_scheduler(runtime.unit_of_work, advising, settings.overdue_check_seconds, runtime.leads)

    return ServiceDefinition(
        SERVICE,
        metadata,
        messaging,
        MIGRATIONS,
        consumer(advising),
        http.routes(clock),
        background=(scheduler,),
        clock=clock,
    )
