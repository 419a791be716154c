"""Waiting on a condition, never on the clock alone."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(probe: Callable[[], Awaitable[T]], timeout: float = 30, what: str = "condition") -> T:
    """The first truthy result of ``probe``; fails naming ``what`` and the last result after ``timeout``."""
    deadline = time.monotonic() + timeout
    result = await probe()
    while not result:
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout:.0f}s; last seen: {result!r}")
        await asyncio.sleep(0.1)
        result = await probe()
    return result
