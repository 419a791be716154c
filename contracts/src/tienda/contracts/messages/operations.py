"""What operations watch: alerts that need a person."""

from enum import StrEnum
from typing import Any, ClassVar

from pydantic import AwareDatetime, Field

from tienda.contracts.envelope import EventPayload


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class OperationsAlert(EventPayload):
    """Something an operator must look at, in a sentence, with the facts to act on."""

    message_type: ClassVar[str] = "OperationsAlert"

    kind: str = Field(description="Stable code, e.g. payment_unmatched, uf_value_missing, autopay_exhausted.")
    severity: Severity
    service: str
    summary: str = Field(description="What happened and what to do, in one or two sentences.")
    details: dict[str, Any] = Field(default_factory=dict)


class Result(StrEnum):
    """What became of one consumed message."""

    PROCESSED = "processed"
    REJECTED = "rejected"
    DEDUPLICATED = "deduplicated"
    IGNORED = "ignored"
    DEAD_LETTERED = "dead_lettered"


class MessageOutcome(EventPayload):
    """One consumed message and what the service made of it."""

    message_type: ClassVar[str] = "MessageOutcome"

    service: str
    handled_type: str | None = Field(description="The message's type; None when it could not be decoded.")
    handled_event_id: str | None
    topic: str
    partition: int
    offset: int
    result: Result
    latency_ms: float = Field(ge=0, description="From the message's arrival to its commit or dead letter.")
    reason: str | None = Field(default=None, description="Why it was dead-lettered.")


class WorkerHeartbeat(EventPayload):
    """A worker is alive: what it has done so far and what waits in its outbox."""

    message_type: ClassVar[str] = "WorkerHeartbeat"

    service: str
    instance: str
    started_at: AwareDatetime
    counters: dict[str, int]
    outbox_backlog: int = Field(ge=0)
    relay_leader: bool = Field(
        default=True,
        description="Whether this instance relays its service's outbox now; false for a replica that stands "
        "by while another holds the relay lease (several replicas on one PostgreSQL database).",
    )


MESSAGES = (OperationsAlert, MessageOutcome, WorkerHeartbeat)
