"""The one clock of a worker: what "now" is. Injected everywhere (handlers read it through
their unit of work, schedulers and read endpoints get it from the composition root), so a
test or an operator can set the day."""

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
"""Returns an aware moment (UTC)."""


def system_clock() -> datetime:
    return datetime.now(UTC)
