"""The advisor's composition root."""

from collections.abc import Sequence
from pathlib import Path

from starlette.routing import BaseRoute

from tienda.advisor import SERVICE
from tienda.advisor.adapters.tables import messaging, metadata
from tienda.advisor.config import AdvisorSettings
from tienda.advisor.domain.assignment import Executive
from tienda.advisor.domain.calendar import BusinessCalendar
from tienda.advisor.domain.policy import AdvisorPolicy
from tienda.advisor.entrypoints import http
from tienda.advisor.entrypoints.overdue import Clock, overdue_watch, utc_now
from tienda.advisor.service_layer.handlers import handlers
from tienda.messaging.http import TokenRing
from tienda.messaging.worker import Runtime, ServiceDefinition


def policy_of(settings: AdvisorSettings) -> AdvisorPolicy:
    return AdvisorPolicy(
        rotation=tuple(Executive(entry.id, entry.name, str(entry.email)) for entry in settings.executives),
        calendar=BusinessCalendar(settings.business_day_opens, settings.business_day_closes).with_holidays(
            settings.extra_holidays
        ),
        first_response_business_hours=settings.first_response_business_hours,
        follow_up_business_hours=settings.follow_up_business_hours,
    )


def definition(settings: AdvisorSettings | None = None, clock: Clock = utc_now) -> ServiceDefinition:
    settings = settings or AdvisorSettings()
    policy = policy_of(settings)

    def routes(runtime: Runtime, tokens: TokenRing) -> Sequence[BaseRoute]:
        return http.routes(runtime, tokens, clock)

    return ServiceDefinition(
        SERVICE,
        metadata,
        messaging,
        Path(__file__).parent / "migrations",
        handlers(policy),
        routes,
        background=(overdue_watch(policy, clock, settings.overdue_check_seconds),),
    )
