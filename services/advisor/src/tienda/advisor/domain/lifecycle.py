"""The lifecycle of a commercial request (and of a follow-up) in the executive's hands.

A request is ``open`` until the executive first answers (any update is the first
response), then ``in_progress``, ``resolved`` and ``closed``. A resolved request may be
reopened (back to ``in_progress``); a closed one is final. A ``redirected`` request went
to the support chat and may only be closed. The queue holds what is open or in progress.
"""

from datetime import datetime
from enum import StrEnum


class Status(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REDIRECTED = "redirected"


IN_QUEUE = (Status.OPEN, Status.IN_PROGRESS)

_ALLOWED: dict[Status, frozenset[Status]] = {
    Status.OPEN: frozenset({Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED}),
    Status.IN_PROGRESS: frozenset({Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED}),
    Status.RESOLVED: frozenset({Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED}),
    Status.CLOSED: frozenset({Status.CLOSED}),
    Status.REDIRECTED: frozenset({Status.CLOSED}),
}


def may_become(current: Status, wanted: Status) -> bool:
    """Whether the executive's tools may move an item from ``current`` to ``wanted`` (same status: a no-op)."""
    return wanted in _ALLOWED[current]


def is_overdue(due_at: datetime | None, first_response_at: datetime | None, now: datetime) -> bool:
    """No first response and its due time has passed."""
    return due_at is not None and first_response_at is None and due_at <= now
