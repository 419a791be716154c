"""The activation of a cart: requested by the ERP, decided by the store."""

from datetime import date
from typing import Annotated, ClassVar
from uuid import UUID

from pydantic import Field, StringConstraints

from tienda.contracts.envelope import EventPayload
from tienda.contracts.types import PaymentMode, Person, Sku, UfAmount, WireModel

RequestId = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class CartLine(WireModel):
    """One product of the cart and how many of it."""

    sku: Sku
    quantity: int = Field(ge=1, le=100_000)


class ActivationRequested(EventPayload):
    """The customer pressed "Activar servicios": activate the whole cart, or nothing."""

    message_type: ClassVar[str] = "ActivationRequested"

    request_id: RequestId = Field(description="Chosen by the ERP; the same id twice activates once.")
    requested_by: Person
    payment_mode: PaymentMode
    lines: list[CartLine] = Field(min_length=1, max_length=50)


class PricedLine(WireModel):
    """A cart line as activated, with the catalog price in force that day."""

    sku: Sku
    description: str
    quantity: int = Field(ge=1)
    unit_price_uf: UfAmount = Field(description="Price per unit per month, in UF.")


class Entitlement(WireModel):
    """How much of one resource the account may use after the activation."""

    resource: str
    quantity: int = Field(ge=0)


class ActivationCompleted(EventPayload):
    """Every line of the cart is active from ``effective_date``."""

    message_type: ClassVar[str] = "ActivationCompleted"

    activation_id: UUID
    request_id: RequestId
    requested_by: Person
    payment_mode: PaymentMode
    effective_date: date
    lines: list[PricedLine] = Field(min_length=1)
    entitlements: list[Entitlement]


class RejectedLine(WireModel):
    """Why one line (or the whole cart, when ``line`` is None) cannot be activated."""

    line: int | None = Field(description="Position of the line in the cart, from 1; None: the cart.")
    sku: str | None
    code: str = Field(description="A stable reason code, e.g. unknown_sku.")
    message: str = Field(description="A plain sentence for the customer.")


class ActivationRejected(EventPayload):
    """Nothing of the cart was activated; every failed line says why."""

    message_type: ClassVar[str] = "ActivationRejected"

    request_id: RequestId
    requested_by: Person
    reasons: list[RejectedLine] = Field(min_length=1)


class ChargeScheduled(EventPayload):
    """The store tells billing what to charge for an activation."""

    message_type: ClassVar[str] = "ChargeScheduled"

    activation_id: UUID
    request_id: RequestId
    requested_by: Person
    payment_mode: PaymentMode
    effective_date: date = Field(description="First day the resources are active.")
    lines: list[PricedLine] = Field(min_length=1)


MESSAGES = (ActivationRequested, ActivationCompleted, ActivationRejected, ChargeScheduled)
