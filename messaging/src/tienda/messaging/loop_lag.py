"""How late the event loop wakes: the watchdog behind ``tienda_event_loop_lag_seconds``.

Everything a worker does shares one event loop: the consumer's fetches, aiokafka's
heartbeats and offset commits, the relay, the schedulers and the HTTP endpoints. Work that
holds the loop (a long run of SQLite statements, which run inline on the loop's thread, or
CPU-bound code that never awaits) delays all of them; held long enough, the group coordinator
drops the consumer. The watchdog sleeps a short interval again and again and records how much
later than asked it woke: that delay is the time the loop was held by someone else."""

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable

log = logging.getLogger(__name__)

LAG_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
TOLERATED = 0.1
"""No handler, relay round, scheduler step or read endpoint may hold the loop longer."""


class LoopWatchdog:
    """Measures the loop's lag every ``interval`` seconds; ``worst`` is the largest seen."""

    def __init__(self, observe: Callable[[float], None] = lambda lag: None, interval: float = 0.025) -> None:
        self._observe = observe
        self._interval = interval
        self.worst = 0.0

    async def run(self) -> None:
        """Until cancelled. A lag over ``TOLERATED`` is logged: it names the moment, the metric the rest."""
        while True:
            asked = time.perf_counter()
            await asyncio.sleep(self._interval)
            lag = max(time.perf_counter() - asked - self._interval, 0.0)
            self.worst = max(self.worst, lag)
            self._observe(lag)
            if lag > TOLERATED:
                log.warning("event loop held for %.0f ms (more than %.0f ms)", lag * 1000, TOLERATED * 1000)


@contextlib.asynccontextmanager
async def loop_held_at_most(limit: float = TOLERATED) -> AsyncIterator[LoopWatchdog]:
    """For tests: fail when the loop was held longer than ``limit`` inside the block."""
    watchdog = LoopWatchdog(interval=0.01)
    task = asyncio.create_task(watchdog.run())
    await asyncio.sleep(0)  # the watchdog is waiting before the block starts
    try:
        yield watchdog
        await asyncio.sleep(0.02)  # the last wake-up after the block is measured too
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    if watchdog.worst > limit:
        raise AssertionError(
            f"the event loop was held for {watchdog.worst * 1000:.0f} ms (at most {limit * 1000:.0f} ms allowed): "
            "long database work must yield between bounded steps"
        )
