"""The scheduler inside the advisor worker: every few seconds, alert operations about requests
whose first response is overdue, by the worker's clock (read by each unit of work)."""

import logging
from collections.abc import Callable

from tienda.advisor.domain.policy import AdvisorPolicy
from tienda.advisor.service_layer.handlers import raise_overdue_alerts
from tienda.messaging.periodic import every
from tienda.messaging.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


async def tick(uow_factory: Callable[[], UnitOfWork], policy: AdvisorPolicy) -> int:
    """Raise the overdue alerts due now (the unit of work's clock); how many were raised."""
    async with uow_factory() as uow:
        raised = await raise_overdue_alerts(uow, uow.now, policy)
        await uow.commit()
    if raised:
        log.info("%d overdue request(s) raised to operations", raised)
    return raised


async def run_scheduler(
    uow_factory: Callable[[], UnitOfWork],
    policy: AdvisorPolicy,
    interval_seconds: float,
    leads: Callable[[], bool] = lambda: True,
) -> None:
    """Tick every ``interval_seconds`` while this replica ``leads`` (one replica alerts), until
    cancelled; a failed tick is logged and retried next time."""
    await every(interval_seconds, lambda: tick(uow_factory, policy), "the advisor's overdue check", leads)
