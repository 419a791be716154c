"""A commercial request in the advisor's hands: what the customer asked, where it stands, who has it.

Its status moves by the rules of ``lifecycle``; the first change the executive's tools make
is the first response. A request the triage judged support is ``redirected``, with what
the customer was told; a commercial one is ``open`` in the queue of the account's executive,
its first response due by the business calendar. The triage's decision and its confidence
stay with the request, for operators.

The executive may correct the triage (``triage_corrections``): ``redirect_to_support`` takes
a request out of the queue and sends the customer to the support chat, as an automatic
redirection would; ``reclassify_commercial`` puts a redirected request back in the queue,
``open``, with a new first-response due time counted from the correction.
"""

from dataclasses import dataclass
from datetime import datetime

from tienda.advisor.domain.lifecycle import IN_QUEUE, Status, is_overdue, may_become
from tienda.advisor.domain.support_model import Decision


@dataclass(frozen=True)
class Requester:
    user_id: str
    name: str
    email: str


@dataclass(frozen=True)
class Contact:
    """How and when the customer would like to be contacted."""

    channel: str
    value: str | None = None
    when: str | None = None


@dataclass(frozen=True)
class Redirect:
    """Why a request went to the support chat, and what the customer was told."""

    reason: str
    matched: str | None
    message: str


@dataclass(frozen=True)
class Judgement:
    """The automatic triage of a request's text; confidence 0 to 1 (None for requests judged before it was kept)."""

    decision: Decision
    confidence: float | None = None


@dataclass
class CommercialRequest:
    account_id: str
    request_id: str
    kind: str
    text: str
    requested_by: Requester
    contact: Contact
    submitted_at: datetime
    status: Status
    updated_at: datetime
    executive_id: str | None = None
    first_response_due_at: datetime | None = None
    first_response_at: datetime | None = None
    overdue_alerted_at: datetime | None = None
    redirect: Redirect | None = None
    judgement: Judgement | None = None

    @property
    def in_queue(self) -> bool:
        """Open or in progress: in the executive's hands."""
        return self.status in IN_QUEUE

    @property
    def automatic_decision(self) -> Decision:
        """The triage's decision; for a request judged before it was kept, what its status says (fixed as
        the judgement at the first correction, so that a correction never reads as the automatic decision)."""
        if self.judgement is not None:
            return self.judgement.decision
        return Decision.SUPPORT if self.redirect is not None else Decision.COMMERCIAL

    def is_overdue(self, now: datetime) -> bool:
        return self.in_queue and is_overdue(self.first_response_due_at, self.first_response_at, now)

    def change_status(self, wanted: Status, by: str, at: datetime) -> bool:
        """The executive's tools set ``wanted``; False (and nothing changes) when the lifecycle forbids it."""
        if not may_become(self.status, wanted):
            return False
        self.status = wanted
        self.first_response_at = self.first_response_at or at
        self.executive_id = self.executive_id or by
        self.updated_at = at
        return True

    def assign_to(self, executive_id: str, at: datetime) -> bool:
        """Move a request in the queue to ``executive_id``; False when it is not in the queue or theirs already."""
        if not self.in_queue or self.executive_id == executive_id:
            return False
        self.executive_id, self.updated_at = executive_id, at
        return True

    def redirect_to_support(self, redirect: Redirect, at: datetime) -> bool:
        """The executive says it is support: out of the queue, the customer sent to the support chat."""
        if not self.in_queue:
            return False
        self.judgement = self.judgement or Judgement(self.automatic_decision)
        self.status, self.redirect, self.updated_at = Status.REDIRECTED, redirect, at
        self.first_response_at = self.first_response_at or at
        return True

    def reclassify_commercial(self, executive_id: str | None, first_response_due_at: datetime, at: datetime) -> bool:
        """The executive says a redirected request is commercial: open again, in ``executive_id``'s queue."""
        if self.status is not Status.REDIRECTED:
            return False
        self.judgement = self.judgement or Judgement(self.automatic_decision)
        self.status, self.executive_id, self.updated_at = Status.OPEN, executive_id, at
        self.first_response_due_at, self.first_response_at, self.overdue_alerted_at = first_response_due_at, None, None
        return True
