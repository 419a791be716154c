"""What the ERP says about an account's plan: contracted or changed, suspended, reinstated."""

from datetime import date
from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from tienda.contracts.envelope import EventPayload
from tienda.contracts.messages.activation import Entitlement
from tienda.contracts.types import UfAmount


class BillingCycle(StrEnum):
    MONTHLY = "monthly"
    ANNUAL = "annual"


class PlanContracted(EventPayload):
    """The account contracted a plan or changed to another: the baseline of its entitlements and billing."""

    message_type: ClassVar[str] = "PlanContracted"

    plan_code: str = Field(min_length=1, max_length=40, description="e.g. PYME-PLUS")
    plan_name: str = Field(min_length=1, max_length=200)
    included: list[Entitlement] = Field(description="Quantities the plan includes, e.g. users 5, dte_monthly 300.")
    modules: list[str] = Field(default_factory=list, description="Module resources included, e.g. module:inventory.")
    billing_cycle: BillingCycle
    renewal_anchor: date = Field(description="The day periods start from; renewals fall on its anniversaries.")
    plan_price_uf: UfAmount = Field(description="Price of the plan per period, in UF.")


class AccountSuspended(EventPayload):
    """The account may not buy until reinstated (e.g. unpaid invoices)."""

    message_type: ClassVar[str] = "AccountSuspended"

    reason: str = Field(min_length=1, max_length=500)


class AccountReinstated(EventPayload):
    """A suspended account may buy again."""

    message_type: ClassVar[str] = "AccountReinstated"


MESSAGES = (PlanContracted, AccountSuspended, AccountReinstated)
