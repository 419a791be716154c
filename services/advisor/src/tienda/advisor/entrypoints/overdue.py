"""The background task that watches first-response times and alerts operations once per overdue request."""

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from tienda.advisor.domain.policy import AdvisorPolicy
from tienda.advisor.service_layer.handlers import raise_overdue_alerts
from tienda.messaging.worker import BackgroundTask, Runtime

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def overdue_watch(policy: AdvisorPolicy, clock: Clock, every_seconds: float) -> BackgroundTask:
    """Every ``every_seconds``, raise the alerts that are due by ``clock()``; a failed round is retried next time."""

    async def watch(runtime: Runtime) -> None:
        while True:
            try:
                async with runtime.unit_of_work() as uow:
                    raised = await raise_overdue_alerts(uow, clock().astimezone(UTC), policy)
                    await uow.commit()
                if raised:
                    log.info("%d overdue request(s) raised to operations", raised)
            except Exception:  # the database may be away; the next round tries again
                log.exception("overdue check failed; retrying in %.0fs", every_seconds)
            await asyncio.sleep(every_seconds)

    return watch
