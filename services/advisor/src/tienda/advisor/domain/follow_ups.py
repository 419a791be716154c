"""Follow-ups the commercial timeline raises for the account's executive.

* failed automatic payment after the last retry → a **payment** follow-up, one per invoice;
* a new feature module activated → offer **training** on it, one per module and account;
* an activation rejected by the limits of the plan (a product the plan does not sell, a
  quantity beyond what the plan allows) → an **upgrade** conversation, one open at a time
  per account: while one is open, further rejections only add to the timeline.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tienda.advisor.domain.lifecycle import IN_QUEUE, Status, may_become

# The store's reason codes that mean "the plan does not allow it"; others (unknown_sku,
# module_already_active, missing_dependency, unknown_account, account_suspended, ...) do not.
PLAN_LIMIT_CODES = frozenset({"not_sold_to_plan", "quantity_out_of_bounds"})

# Feature modules are the catalog's MOD-* SKUs (e.g. MOD-INV, Módulo Inventario).
MODULE_SKU_PREFIX = "MOD-"

_NAMESPACE = uuid.UUID("6f1d8a52-3c0e-4b7a-9d1e-2a5c7b9e0f31")


class FollowUpKind(StrEnum):
    PAYMENT = "payment"
    TRAINING = "training"
    UPGRADE = "upgrade"


@dataclass
class FollowUp:
    """Something on the account's timeline for its executive to act on, due by ``due_at``."""

    follow_up_id: str
    account_id: str
    kind: FollowUpKind
    reference: str
    summary: str
    executive_id: str | None
    status: Status
    raised_at: datetime
    due_at: datetime
    updated_at: datetime

    @property
    def in_queue(self) -> bool:
        return self.status in IN_QUEUE

    def is_overdue(self, now: datetime) -> bool:
        return self.in_queue and self.due_at <= now

    def change_status(self, wanted: Status, at: datetime) -> bool:
        """The executive's tools set ``wanted``; False (and nothing changes) when the lifecycle forbids it."""
        if not may_become(self.status, wanted):
            return False
        self.status, self.updated_at = wanted, at
        return True

    def assign_to(self, executive_id: str, at: datetime) -> bool:
        """Move an open follow-up to ``executive_id``; False when it is closed or theirs already."""
        if not self.in_queue or self.executive_id == executive_id:
            return False
        self.executive_id, self.updated_at = executive_id, at
        return True


def follow_up_id(account_id: str, kind: FollowUpKind, reference: str) -> str:
    """The same follow-up always gets the same id: raising it twice is raising it once."""
    return str(uuid.uuid5(_NAMESPACE, f"{account_id}|{kind.value}|{reference}"))


def hits_plan_limits(reason_codes: list[str]) -> bool:
    return any(code in PLAN_LIMIT_CODES for code in reason_codes)


def is_module(sku: str) -> bool:
    return sku.startswith(MODULE_SKU_PREFIX)


def payment_summary(invoice_id: str, amount_clp: int, attempts: int, last_reason: str) -> str:
    return (
        f"Automatic payment of invoice {invoice_id} ({clp(amount_clp)}) failed after {attempts} attempt(s) "
        f"({last_reason}); the invoice is pending: call the customer about paying it or updating the card."
    )


def training_summary(description: str, activated_by: str) -> str:
    return f"{activated_by} activated {description}: offer a training session on it."


def upgrade_summary(requested_by: str, reasons: list[str]) -> str:
    return f"{requested_by} hit the limits of the plan ({'; '.join(reasons)}): talk about upgrading the plan."


def clp(amount: int) -> str:
    """Chilean pesos as written in Chile: $1.234.567."""
    return "$" + f"{amount:,}".replace(",", ".")
