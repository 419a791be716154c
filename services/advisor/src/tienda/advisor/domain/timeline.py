"""The account's commercial timeline: one sentence per thing that happened, told once.

An entry about something with a business key (an activation, an invoice, a payment id) is
written once per account, kind and key, however many times its event arrives; entries are
read in the order things happened (their ``occurred_at``), not the order they arrived.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class TimelineEntry:
    account_id: str
    event_id: str
    kind: str
    summary: str
    occurred_at: datetime
    reference: str | None = None

    @property
    def fact(self) -> tuple[str, str, str] | None:
        """The business fact it tells (account, kind, key), told once; None: an entry without a key."""
        return None if self.reference is None else (self.account_id, self.kind, self.reference)


def told_once(entries: Iterable[TimelineEntry]) -> list[TimelineEntry]:
    """The entries in order without a second telling of the same fact: the first one is kept."""
    told: set[tuple[str, str, str]] = set()
    kept = []
    for entry in entries:
        fact = entry.fact
        if fact is not None:
            if fact in told:
                continue
            told.add(fact)
        kept.append(entry)
    return kept
