"""Billing's messages: requests from Cuenta y Facturación, UF values, and billing's own facts."""

from typing import ClassVar

from pydantic import AwareDatetime, Field

from tienda.contracts.envelope import EventPayload
from tienda.contracts.types import ClpAmount


class AutopayFailed(EventPayload):
    """Automatic payment of an invoice failed after its last retry: the invoice stays pending."""

    message_type: ClassVar[str] = "AutopayFailed"

    invoice_id: str = Field(min_length=1, max_length=64)
    amount_clp: ClpAmount = Field(gt=0)
    attempts: int = Field(ge=1)
    last_reason: str = Field(description="The gateway's reason for the last failure.")
    gave_up_at: AwareDatetime


MESSAGES: tuple[type[EventPayload], ...] = (AutopayFailed,)
