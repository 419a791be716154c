"""The scheduler inside the store worker: every ``interval_seconds``, refuse as ``unknown_account``
the carts and reductions that waited ``wait`` for their account's plan in vain, by the worker's
clock (read by each unit of work)."""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from tienda.messaging.periodic import every
from tienda.messaging.unit_of_work import UnitOfWork
from tienda.store.service_layer.waiting import REFUSALS_PER_TRANSACTION, refuse_waited_too_long

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SchedulerPolicy:
    wait: timedelta = timedelta(hours=24)
    interval_seconds: float = 60.0


async def tick(uow_factory: Callable[[], UnitOfWork], policy: SchedulerPolicy) -> int:
    """Refuse every request that waited too long, a few hundred per transaction; how many."""
    refused = 0
    while True:
        async with uow_factory() as uow:
            count = await refuse_waited_too_long(uow, policy.wait)
            await uow.commit()
        refused += count
        if count < REFUSALS_PER_TRANSACTION:
            break
    if refused:
        log.info("%d request(s) refused as unknown_account after waiting %s for a plan", refused, policy.wait)
    return refused


async def run_scheduler(uow_factory: Callable[[], UnitOfWork], policy: SchedulerPolicy) -> None:
    """Tick every ``policy.interval_seconds`` until cancelled; a failed tick is logged and retried next time."""
    await every(policy.interval_seconds, lambda: tick(uow_factory, policy), "the store's scheduler tick")
