"""What operations watch: alerts that need a person."""

from enum import StrEnum
from typing import Any, ClassVar

from pydantic import Field

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


MESSAGES = (OperationsAlert,)
