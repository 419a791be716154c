"""A worker's periodic jobs (billing's scheduler, the advisor's overdue watch, heartbeats):
one loop, the same behaviour everywhere."""

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


def always() -> bool:
    return True


async def every(
    seconds: float, step: Callable[[], Awaitable[object]], what: str, when: Callable[[], bool] = always
) -> None:
    """Run ``step`` now and then every ``seconds`` until cancelled, in the rounds where ``when()``
    holds (a worker's scheduled jobs run on one replica: the one that relays the outbox). A
    failing step is logged (the database or the broker may be away) and tried again next round."""
    while True:
        try:
            if when():
                await step()
        except Exception:
            log.exception("%s failed; trying again in %.0fs", what, seconds)
        await asyncio.sleep(seconds)
