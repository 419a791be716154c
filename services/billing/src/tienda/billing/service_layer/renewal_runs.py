"""Renewal runs of one worker: where each date's run stands, started once and joined by anyone.

The scheduler, ``POST /admin/renewals`` and the operator's command all renew through
``renewal.renew_due_accounts``; in the worker they go through ``RenewalRuns`` so that a date
has one run at a time in the process: a second request for a date being renewed joins it
instead of walking the same accounts again. A run keeps its progress after it ends, for
``GET /admin/renewals/{date}`` and the ``tienda_billing_renewal_accounts_left`` gauge."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum

from tienda.contracts.business_day import business_date

log = logging.getLogger(__name__)


def ahead_of_today(day: date, now: datetime) -> str | None:
    """Why renewing ``day`` at ``now`` is likely a mistake (a date after today in Santiago would issue
    at once every renewal invoice due by then: a mistyped year invoices months ahead); None if not.
    The operators' entry points refuse such a date unless asked for it on purpose."""
    today = business_date(now)
    if day <= today:
        return None
    return (
        f"renewal date {day} is after today ({today} in Santiago): it would issue now every renewal invoice due by then"
    )


class RunState(StrEnum):
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"


@dataclass
class RenewalProgress:
    """Where a renewal run for ``date`` stands. ``total`` is counted when the run starts; accounts
    that fail are retried by the next run (the scheduler's, or the operator's)."""

    date: date
    total: int = 0
    done: int = 0
    failed: int = 0
    invoices: int = 0
    chunks: int = 0
    state: RunState = RunState.RUNNING
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None
    counted: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    @property
    def left(self) -> int:
        return max(self.total - self.done - self.failed, 0)


Job = Callable[[RenewalProgress], Awaitable[RenewalProgress]]
"""A run: renews into the progress it is given and returns it (counts, not one record per account)."""


class RenewalRuns:
    """The renewal runs of this process, by date."""

    def __init__(self) -> None:
        self._runs: dict[date, RenewalProgress] = {}
        self._tasks: dict[date, asyncio.Task[RenewalProgress]] = {}

    def progress(self, on: date) -> RenewalProgress | None:
        return self._runs.get(on)

    def all(self) -> list[RenewalProgress]:
        return [self._runs[on] for on in sorted(self._runs)]

    async def counted(self, on: date, at_most: float) -> None:
        """Wait (at most ``at_most`` seconds) until ``on``'s run has counted its accounts or ended, so
        that an answer about a run just started says how many accounts it has."""
        progress, task = self._runs.get(on), self._tasks.get(on)
        if progress is None or task is None:
            return
        counting = asyncio.ensure_future(progress.counted.wait())
        await asyncio.wait({counting, task}, timeout=at_most, return_when=asyncio.FIRST_COMPLETED)
        counting.cancel()

    def start_or_join(self, on: date, job: Job) -> "asyncio.Task[RenewalProgress]":
        """The running task of ``on``'s run, or a new one running ``job``."""
        task = self._tasks.get(on)
        if task is not None and not task.done():
            return task
        progress = self._runs[on] = RenewalProgress(on)
        task = asyncio.create_task(self._run(progress, job), name=f"renewal {on}")
        self._tasks[on] = task
        return task

    async def _run(self, progress: RenewalProgress, job: Job) -> RenewalProgress:
        try:
            result = await job(progress)
        except asyncio.CancelledError:
            progress.state = RunState.FAILED
            log.info("renewal run for %s stopped with the worker after %d account(s)", progress.date, progress.done)
            raise
        except Exception:
            progress.state = RunState.FAILED
            log.exception("renewal run for %s stopped after %d account(s)", progress.date, progress.done)
            raise
        else:
            progress.state = RunState.FINISHED
            return result
        finally:
            progress.finished_at = datetime.now(UTC)

    async def stop(self) -> None:
        """Cancel the runs still going (the worker stops): their committed chunks stay, the rest waits
        for the next run."""
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
