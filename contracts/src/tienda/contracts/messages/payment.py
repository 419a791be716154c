"""What the payment gateway says about money received."""

from typing import Annotated, ClassVar

from pydantic import AwareDatetime, Field, StringConstraints

from tienda.contracts.envelope import EventPayload
from tienda.contracts.types import ClpAmount

GatewayPaymentId = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class PaymentReceived(EventPayload):
    """The gateway received a payment for an order or an invoice."""

    message_type: ClassVar[str] = "PaymentReceived"

    payment_id: GatewayPaymentId = Field(description="The gateway's id; the same id twice is one payment.")
    reference: str = Field(min_length=1, max_length=64, description="The order or invoice paid.")
    amount_clp: ClpAmount = Field(gt=0)
    method: str = Field(min_length=1, max_length=32, description="e.g. card, transfer, webpay.")
    paid_by: str = Field(min_length=1, max_length=200, description="Who paid, as the gateway knows them.")
    paid_at: AwareDatetime


class PaymentFailed(EventPayload):
    """The gateway could not charge: a card declined, an expired token."""

    message_type: ClassVar[str] = "PaymentFailed"

    payment_id: GatewayPaymentId = Field(description="The gateway's id of the failed attempt.")
    reference: str = Field(min_length=1, max_length=64, description="The order or invoice it tried to pay.")
    amount_clp: ClpAmount = Field(gt=0)
    reason: str = Field(min_length=1, max_length=500, description="The gateway's reason, e.g. card declined.")
    failed_at: AwareDatetime


MESSAGES = (PaymentReceived, PaymentFailed)
