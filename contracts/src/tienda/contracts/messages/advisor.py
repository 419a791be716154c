"""The advisor's messages: commercial requests, their lifecycle, follow-ups.

In (``tienda.advisor.requests``): the ERP submits a customer's commercial request, the
executive's tools update its status, the CRM assigns an account's executive.
Out (``tienda.advisor.events``): a request assigned to an executive or redirected to the
support chat (with the message to show the customer), and follow-ups for the executive.
"""

from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import AwareDatetime, Field, StringConstraints

from tienda.contracts.envelope import EventPayload
from tienda.contracts.types import Email, Person, WireModel

CommercialRequestId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64),
    Field(description="Chosen by the ERP; the same id twice is one request."),
]
ExecutiveId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]


class RequestKind(StrEnum):
    """What the customer asks the post-sales executive for; ``support`` is redirected."""

    NEW_FEATURE = "new_feature"
    TRAINING = "training"
    NEW_PRODUCT = "new_product"
    DEMO = "demo"
    OTHER_COMMERCIAL = "other_commercial"
    SUPPORT = "support"


class ContactChannel(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    WHATSAPP = "whatsapp"
    VIDEO_CALL = "video_call"


class PreferredContact(WireModel):
    """How and when the customer would like to be contacted."""

    channel: ContactChannel
    value: str | None = Field(default=None, max_length=200, description="e.g. +56 9 8765 4321, an e-mail.")
    when: str | None = Field(default=None, max_length=200, description="e.g. mañanas de 9 a 12.")


class Executive(WireModel):
    """A post-sales executive (ejecutivo de Post Venta)."""

    executive_id: ExecutiveId
    name: str = Field(min_length=1, max_length=200)
    email: Email


class RequestStatus(StrEnum):
    """What the executive's tools may set on a request or a follow-up."""

    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


class TriageCorrection(StrEnum):
    """The executive corrects the advisor's support triage of a request."""

    REDIRECTED_TO_SUPPORT = "redirected_to_support"
    RECLASSIFIED_COMMERCIAL = "reclassified_commercial"


class TriageDecision(StrEnum):
    SUPPORT = "support"
    COMMERCIAL = "commercial"


class Triage(WireModel):
    """How the advisor's support triage judged the request's text, for operators."""

    decision: TriageDecision = Field(description="support: redirected to the support chat; commercial: kept.")
    confidence: float | None = Field(
        ge=0,
        le=1,
        description="How sure the decision was, 0 to 1: 1 when the customer chose the kind support, the "
        "classifier's probability of its decision otherwise; null for requests judged before it was kept.",
    )
    corrected_by: ExecutiveId | None = Field(
        default=None,
        description="The executive who corrected the decision, when this message follows a correction; "
        "decision and confidence stay the automatic ones.",
    )


class FollowUpKind(StrEnum):
    PAYMENT = "payment"
    TRAINING = "training"
    UPGRADE = "upgrade"


class CommercialRequestSubmitted(EventPayload):
    """A customer sent a request through "Asesor Comercial" in the ERP."""

    message_type: ClassVar[str] = "CommercialRequestSubmitted"

    request_id: CommercialRequestId
    requested_by: Person
    kind: RequestKind
    text: str = Field(min_length=1, max_length=4000, description="What the customer wrote.")
    preferred_contact: PreferredContact


class CommercialRequestUpdated(EventPayload):
    """The executive's tools changed the status of a request (or of a follow-up, by its id), or corrected
    the support triage of a request.

    A correction is ``correction``: ``redirected_to_support`` takes an open or in-progress request
    out of the executive's queue and sends the customer to the support chat (as an automatic
    redirection: CommercialRequestRedirected); ``reclassified_commercial`` puts a redirected
    request back in the queue of the account's executive, open, and announces it
    (CommercialRequestAssigned). Readers that know ``correction`` act on it and ignore
    ``status``; send ``status`` ``closed`` with ``redirected_to_support`` and ``in_progress``
    with ``reclassified_commercial``, which is what a reader that predates the field makes of it
    (it closes the request; it refuses to reopen a redirected one).
    """

    message_type: ClassVar[str] = "CommercialRequestUpdated"

    request_id: str = Field(min_length=1, max_length=64, description="A request id or a follow-up id.")
    status: RequestStatus
    executive_id: ExecutiveId = Field(description="Who made the change.")
    note: str | None = Field(default=None, max_length=2000)
    correction: TriageCorrection | None = Field(
        default=None,
        description="The executive corrects the support triage (a request, not a follow-up); then status is ignored.",
    )


class ExecutiveAssigned(EventPayload):
    """The CRM assigned the account's post-sales executive; open requests move with the account."""

    message_type: ClassVar[str] = "ExecutiveAssigned"

    executive: Executive


class CommercialRequestAssigned(EventPayload):
    """A commercial request is in an executive's queue, with its first response due."""

    message_type: ClassVar[str] = "CommercialRequestAssigned"

    request_id: CommercialRequestId
    requested_by: Person
    kind: RequestKind
    text: str
    preferred_contact: PreferredContact
    executive: Executive
    first_response_due_at: AwareDatetime = Field(description="Business hours on the America/Santiago calendar.")
    reassigned_from: ExecutiveId | None = Field(default=None, description="The previous executive, on reassignment.")
    triage: Triage | None = Field(
        default=None, description="How the support triage judged the request; null for requests judged before."
    )


class CommercialRequestRedirected(EventPayload):
    """Not a commercial request: the customer is sent to the support chat, and told so."""

    message_type: ClassVar[str] = "CommercialRequestRedirected"

    request_id: CommercialRequestId
    requested_by: Person
    kind: RequestKind
    redirected_to: str = Field(description="Where the customer should go: support_chat.")
    reason: str = Field(
        description="support_kind (the customer chose support), fault_described (the text) or "
        "executive_correction (the executive said it is support)."
    )
    matched: str | None = Field(description="The words of the text that describe a fault, if any.")
    message: str = Field(description="What to show the customer, in Spanish.")
    triage: Triage | None = Field(
        default=None, description="How the support triage judged the request; null for requests judged before."
    )


class FollowUpRaised(EventPayload):
    """Something in the account's commercial timeline the executive should act on."""

    message_type: ClassVar[str] = "FollowUpRaised"

    follow_up_id: str = Field(min_length=1, max_length=64, description="Also the id to update it by.")
    kind: FollowUpKind
    reference: str = Field(description="What it is about: an invoice, a module SKU, a rejected request.")
    summary: str = Field(description="What happened and what to talk about, for the executive.")
    executive: Executive
    due_at: AwareDatetime
    reassigned_from: ExecutiveId | None = Field(default=None, description="The previous executive, on reassignment.")


MESSAGES: tuple[type[EventPayload], ...] = (
    CommercialRequestSubmitted,
    CommercialRequestUpdated,
    ExecutiveAssigned,
    CommercialRequestAssigned,
    CommercialRequestRedirected,
    FollowUpRaised,
)
