"""Card autopay: when to retry a failed charge, and when to give up.

Attempt 1 goes to the gateway when the invoice is issued. After it fails, retry ``n``
is due ``retry_days[n-1]`` days after the first failure (by default 1, 3 and 5 days).
When the last retry has failed too, autopay gives up: the invoice stays pending and the
advisor and operations are told.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum

DEFAULT_RETRY_DAYS = (1, 3, 5)


class Step(Enum):
    WAIT = "wait"
    RETRY = "retry"
    GIVE_UP = "give_up"


@dataclass(frozen=True)
class AutopayState:
    attempts: int
    """Charges requested from the gateway so far."""
    failures: int
    """Of those, how many the gateway reported failed."""
    first_failure_at: datetime | None


class AutopayStatus(Enum):
    REQUESTED = "requested"
    """A charge is with the gateway."""
    FAILED = "failed"
    """The gateway declined it; a retry is due on its day."""
    SETTLED = "settled"
    """The invoice was paid."""
    EXHAUSTED = "exhausted"
    """The last retry was declined too: autopay gave up."""
    STOPPED = "stopped"
    """The card was removed before a retry."""


@dataclass(frozen=True)
class Autopay:
    """Where automatic payment of one invoice stands."""

    status: AutopayStatus | None = None
    """None: the invoice was never charged to a card."""
    attempts: int = 0
    failures: int = 0
    first_failure_at: datetime | None = None
    last_reason: str | None = None

    @property
    def state(self) -> AutopayState:
        return AutopayState(self.attempts, self.failures, self.first_failure_at)

    def requested(self, attempt: int) -> "Autopay":
        return replace(self, status=AutopayStatus.REQUESTED, attempts=attempt)

    def failed(self, reason: str, at: datetime) -> "Autopay":
        return replace(
            self,
            status=AutopayStatus.FAILED,
            failures=self.failures + 1,
            first_failure_at=self.first_failure_at or at,
            last_reason=reason,
        )

    def ended(self, status: AutopayStatus) -> "Autopay":
        return replace(self, status=status)


def next_step(state: AutopayState, retry_days: Sequence[int], now: datetime) -> Step:
    """What to do now: wait (an attempt is in flight or a retry is not due), retry, or give up."""
    if state.failures < state.attempts or state.first_failure_at is None:
        return Step.WAIT
    retries_done = state.attempts - 1
    if retries_done >= len(retry_days):
        return Step.GIVE_UP
    due = retry_due_at(state.first_failure_at, retry_days, retries_done + 1)
    return Step.RETRY if now >= due else Step.WAIT


def retry_due_at(first_failure_at: datetime, retry_days: Sequence[int], retry: int) -> datetime:
    """When retry number ``retry`` (from 1) is due."""
    return first_failure_at + timedelta(days=retry_days[retry - 1])
