"""A worker's periodic jobs (billing's scheduler, the advisor's overdue watch, heartbeats):
one loop, the same behaviour everywhere."""

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


async def every(seconds: float, step: Callable[[], Awaitable[object]], what: str) -> None:
    """Run ``step`` now and then every ``seconds`` until cancelled. A failing step is logged
    (the database or the broker may be away) and tried again at the next round."""
    while True:
        try:
            await step()
        except Exception:
            log.exception("%s failed; trying again in %.0fs", what, seconds)
        await asyncio.sleep(seconds)
