"""The envelope every Tienda message travels in.

On the wire a message is one JSON object: the envelope fields and the ``payload``.
The Kafka key is the account id, so every message about one account keeps its order.
"""

from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, TypeVar
from uuid import UUID, uuid4

from pydantic import AwareDatetime, Field, field_validator

from tienda.contracts.types import AccountId, WireModel


class EventPayload(WireModel):
    """The body of one message type. Subclasses name their type and schema version."""

    message_type: ClassVar[str]
    schema_version: ClassVar[int] = 1


P = TypeVar("P", bound=EventPayload)


class EnvelopeHeader(WireModel):
    """The envelope without its payload: enough to route, deduplicate and trace."""

    event_id: UUID = Field(description="Unique id of this event; consumers deduplicate on it.")
    type: str = Field(description="The message type, e.g. ActivationRequested.")
    schema_version: int = Field(ge=1, description="Version of the payload's schema.")
    occurred_at: AwareDatetime = Field(description="When it happened, in UTC.")
    correlation_id: UUID = Field(description="Shared by every message of one business flow.")
    causation_id: UUID | None = Field(default=None, description="The event id of the message that caused this one.")
    producer: str = Field(min_length=1, description="The service or platform that produced it.")
    account_id: AccountId
    trace_parent: str | None = Field(
        default=None,
        description="W3C traceparent of the span that produced it; absent, the correlation id is the trace id.",
    )

    @field_validator("occurred_at")
    @classmethod
    def _in_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)


class Envelope(EnvelopeHeader, Generic[P]):
    """A complete message: the envelope header and its typed payload."""

    payload: P


AnyEnvelope: type[Envelope[Any]] = Envelope[Any]
"""An envelope of any payload, the class built once (``Envelope[Any]`` looks it up at every use)."""


class RawEnvelope(EnvelopeHeader):
    """An envelope read off the wire before its payload is validated by type."""

    payload: dict[str, Any]


def new_envelope(
    payload: P,
    *,
    account_id: str,
    producer: str,
    cause: EnvelopeHeader | None = None,
    occurred_at: datetime | None = None,
    trace_parent: str | None = None,
) -> Envelope[P]:
    """Wrap a payload in a fresh envelope; a message caused by another keeps its correlation."""
    event_id = uuid4()
    return AnyEnvelope(
        event_id=event_id,
        type=payload.message_type,
        schema_version=payload.schema_version,
        occurred_at=occurred_at or datetime.now(UTC),
        correlation_id=cause.correlation_id if cause else event_id,
        causation_id=cause.event_id if cause else None,
        producer=producer,
        account_id=account_id,
        trace_parent=trace_parent,
        payload=payload,
    )
