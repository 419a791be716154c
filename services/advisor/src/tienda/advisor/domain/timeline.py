"""The account's commercial timeline: one sentence per thing that happened, told once.

An entry about something with a business key (an activation, an invoice, a payment id) is
written once per account, kind and key, however many times its event arrives; entries are
read in the order things happened (their ``occurred_at``), not the order they arrived.
"""

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
