"""The store's messages beyond activation: reductions and the plan view.

A reduction (fewer users, a module removed) is never refunded mid-period: the store
accepts it as scheduled **for the next renewal** and says so to billing, which owns the
dates. Until then the resources stay usable; the plan view shows both what the account
has now and what it will have after the renewal.
"""

from datetime import date
from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from pydantic import AwareDatetime, Field

from tienda.contracts.envelope import EventPayload
from tienda.contracts.messages.activation import CartLine, Entitlement, PricedLine, RejectedLine, RequestId
from tienda.contracts.messages.plans import BillingCycle
from tienda.contracts.types import PaymentMode, Person, Sku, UfAmount, WireModel


class ReductionRequested(EventPayload):
    """The customer asked to lower the plan: fewer of a resource, or a module removed.

    Each line names a SKU and how many of it to remove (a module: its SKU, quantity 1).
    The same request id twice schedules once."""

    message_type: ClassVar[str] = "ReductionRequested"

    request_id: RequestId = Field(description="Chosen by the ERP; the same id twice schedules once.")
    requested_by: Person
    lines: list[CartLine] = Field(min_length=1, max_length=50)


class ReductionTiming(StrEnum):
    """When a scheduled reduction takes effect. Billing owns the date itself."""

    NEXT_RENEWAL = "next_renewal"


class ReducedLine(WireModel):
    """One line of a reduction as the store accepted it."""

    sku: Sku
    description: str
    resource: str = Field(description="The entitlement it lowers, e.g. users, dte_monthly, module:bi.")
    quantity: int = Field(ge=1, description="How many of the SKU are removed.")
    units: int = Field(ge=1, description="How much of the resource that is (quantity × units per SKU).")
    unit_price_uf: UfAmount = Field(
        description="The SKU's catalog price per unit per month in force on the day of the request, in UF."
    )


class ReductionScheduled(EventPayload):
    """The reduction is accepted and takes effect at the next renewal; nothing is refunded for the current period."""

    message_type: ClassVar[str] = "ReductionScheduled"

    reduction_id: UUID
    request_id: RequestId
    requested_by: Person
    requested_on: date = Field(description="The day (in Chile) the customer asked.")
    takes_effect: ReductionTiming = Field(
        default=ReductionTiming.NEXT_RENEWAL, description="Always the next renewal: billing owns the date."
    )
    lines: list[ReducedLine] = Field(min_length=1)
    entitlements_after: list[Entitlement] = Field(
        description="What the account will have once this and every other pending reduction took effect."
    )


class ReductionRejected(EventPayload):
    """Nothing of the reduction was scheduled; every failed line says why."""

    message_type: ClassVar[str] = "ReductionRejected"

    request_id: RequestId
    requested_by: Person
    reasons: list[RejectedLine] = Field(min_length=1)


class AccountStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class PlanSummary(WireModel):
    """The plan the account contracted, as the last PlanContracted said."""

    code: str
    name: str
    billing_cycle: BillingCycle
    renewal_anchor: date
    price_uf: UfAmount
    status: AccountStatus
    suspended_reason: str | None = None


class PlanCounts(WireModel):
    """The counts "Cuenta y Facturación" shows, as usable today."""

    users: int = Field(ge=0)
    legal_entities: int = Field(ge=0)
    payroll_workers: int = Field(ge=0)
    dte_monthly: int = Field(ge=0, description="Monthly DTE quota.")


class ResourceHolding(WireModel):
    """One resource of the account: what the plan includes, what the store sold, what remains after renewal."""

    resource: str
    included: int = Field(ge=0, description="Included by the plan.")
    purchased: int = Field(ge=0, description="Bought in the store (net of reductions already applied).")
    quantity: int = Field(ge=0, description="Usable today.")
    scheduled_removal: int = Field(ge=0, description="Removed at the next renewal by pending reductions.")
    at_next_renewal: int = Field(ge=0, description="Usable after the next renewal.")


class PendingReduction(WireModel):
    """A reduction accepted and waiting for the renewal."""

    reduction_id: UUID
    request_id: RequestId
    requested_by: Person
    requested_at: AwareDatetime
    takes_effect: ReductionTiming = ReductionTiming.NEXT_RENEWAL
    lines: list[ReducedLine]


class ActivationRecord(WireModel):
    """One activation of the history: what, who, when, at what price."""

    activation_id: UUID
    request_id: RequestId
    requested_by: Person
    payment_mode: PaymentMode
    effective_date: date
    activated_at: AwareDatetime
    lines: list[PricedLine]


class PlanSnapshot(EventPayload):
    """The account's plan view after a change, keyed by account on a compacted topic: the latest one wins.

    ``revision`` grows by one with every change of the view; a reader keeps the highest."""

    message_type: ClassVar[str] = "PlanSnapshot"

    revision: int = Field(ge=1)
    as_of: AwareDatetime
    plan: PlanSummary
    features: list[str] = Field(description="Modules usable today, e.g. module:inventory.")
    counts: PlanCounts
    resources: list[ResourceHolding]
    pending_reductions: list[PendingReduction]
    activations: list[ActivationRecord] = Field(description="The latest activations, newest first.")
    activations_total: int = Field(ge=0, description="How many activations the account has in all.")


MESSAGES = (ReductionRequested, ReductionScheduled, ReductionRejected, PlanSnapshot)
