"""Why the store refuses a cart or a reduction: stable reason codes, one sentence each.

The codes are part of the published language (``RejectedLine.code``): they are never
renamed or reused for another meaning. A refusal of the whole request has no line.

Whole request (``line`` is None):

=====================  ====================================================================
unknown_account        no plan was contracted for the account within the wait after the request
                       arrived (24 h, TIENDA_STORE_UNKNOWN_ACCOUNT_WAIT_SECONDS; see waiting.py)
account_suspended      the account is suspended and may not buy until reinstated (carts only)
=====================  ====================================================================

Each line of a cart (ActivationRequested):

=====================  ====================================================================
unknown_sku            the SKU is not sold on the cart's effective date
quantity_out_of_bounds the quantity is outside the SKU's minimum and maximum
repeated_sku           the SKU is on an earlier line of the same cart
not_sold_to_plan       the SKU is not sold to the account's plan
module_already_active  the module is already active (included, bought, or awaiting removal)
missing_dependency     a module it needs is neither active nor in the cart, or leaves at renewal
=====================  ====================================================================

Each line of a reduction (ReductionRequested):

========================  =================================================================
unknown_sku               the SKU was never in any catalog version
repeated_sku              the SKU is on an earlier line of the same request
quantity_out_of_bounds    a module is removed with a quantity other than 1
module_not_active         the module is not active on the account
included_in_plan          the plan includes it: only a plan change lowers it
exceeds_store_purchases   more of the SKU than was bought in the store and not yet reduced
                          or scheduled: the plan's included quantity is the floor
already_scheduled         the module is already scheduled for removal
required_by_active_module another module that stays active needs this one
========================  =================================================================
"""

from dataclasses import dataclass
from enum import StrEnum


class Reason(StrEnum):
    UNKNOWN_ACCOUNT = "unknown_account"
    ACCOUNT_SUSPENDED = "account_suspended"
    UNKNOWN_SKU = "unknown_sku"
    QUANTITY_OUT_OF_BOUNDS = "quantity_out_of_bounds"
    REPEATED_SKU = "repeated_sku"
    NOT_SOLD_TO_PLAN = "not_sold_to_plan"
    MODULE_ALREADY_ACTIVE = "module_already_active"
    MISSING_DEPENDENCY = "missing_dependency"
    MODULE_NOT_ACTIVE = "module_not_active"
    INCLUDED_IN_PLAN = "included_in_plan"
    EXCEEDS_STORE_PURCHASES = "exceeds_store_purchases"
    ALREADY_SCHEDULED = "already_scheduled"
    REQUIRED_BY_ACTIVE_MODULE = "required_by_active_module"


@dataclass(frozen=True)
class Refusal:
    """Why one line (``line`` from 1) or the whole request (``line`` None) cannot be done."""

    line: int | None
    sku: str | None
    code: Reason
    message: str


def unknown_account() -> Refusal:
    return Refusal(
        None,
        None,
        Reason.UNKNOWN_ACCOUNT,
        "This account has no contracted plan in the store; try again once the plan is active.",
    )


def repeated_skus(skus: list[str]) -> list[Refusal]:
    """A refusal for every line whose SKU already appeared on an earlier line."""
    seen: set[str] = set()
    refusals = []
    for line, sku in enumerate(skus, start=1):
        if sku in seen:
            message = f"{sku} appears twice; put the total quantity on one line."
            refusals.append(Refusal(line, sku, Reason.REPEATED_SKU, message))
        seen.add(sku)
    return refusals
