"""An account's plan and entitlements: the plan's baseline, what the store sold, what leaves at renewal.

Each resource (users, dte_monthly, payroll_workers, legal_entities, module:<name>) is held
as ``included`` (by the plan) plus ``purchased`` (bought in the store). A plan change
replaces the baseline and **keeps what was bought in the store**. A reduction lowers
``purchased`` only, and not at once: it waits as scheduled until the next renewal, which
the store learns from the next PlanContracted of the account (the ERP restates the plan
at each renewal and on each change); until then the account keeps using what it pays for.
A module is active or not: included and bought at once still count once.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from tienda.store.domain.catalog import is_module

USERS, LEGAL_ENTITIES, PAYROLL_WORKERS, DTE_MONTHLY = "users", "legal_entities", "payroll_workers", "dte_monthly"


class Status(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


@dataclass(frozen=True)
class Plan:
    """What the last PlanContracted said about the plan."""

    code: str
    name: str
    billing_cycle: str
    renewal_anchor: date
    price_uf: Decimal


@dataclass
class Holding:
    resource: str
    included: int = 0
    purchased: int = 0

    def total(self, removed: int = 0) -> int:
        units = self.included + self.purchased - removed
        return min(units, 1) if is_module(self.resource) else units


@dataclass(frozen=True)
class ReducedItem:
    """One line of a scheduled reduction: ``units`` of ``resource`` leave at renewal."""

    sku: str
    description: str
    resource: str
    quantity: int
    units: int
    unit_price_uf: Decimal


@dataclass(frozen=True)
class Reduction:
    """A reduction accepted and waiting for the renewal."""

    reduction_id: str
    request_id: str
    requested_by: Mapping[str, str]
    requested_at: datetime
    items: tuple[ReducedItem, ...]


@dataclass
class Account:
    """The store's view of one customer account."""

    account_id: str
    plan: Plan
    status: Status = Status.ACTIVE
    suspended_reason: str | None = None
    holdings: dict[str, Holding] = field(default_factory=dict)
    pending: list[Reduction] = field(default_factory=list)
    revision: int = 0
    saved: dict[str, tuple[int, int]] = field(default_factory=dict, compare=False, repr=False)
    """(included, purchased) by resource as last read or written: only what changed is written."""

    @classmethod
    def contracted(cls, account_id: str, plan: Plan, included: Mapping[str, int]) -> "Account":
        account = cls(account_id, plan)
        account.contract(plan, included)
        return account

    @property
    def suspended(self) -> bool:
        return self.status is Status.SUSPENDED

    def holding(self, resource: str) -> Holding:
        return self.holdings.get(resource) or Holding(resource)

    def quantity(self, resource: str) -> int:
        """Usable today."""
        return self.holding(resource).total()

    def scheduled_removal(self, resource: str) -> int:
        return sum(item.units for reduction in self.pending for item in reduction.items if item.resource == resource)

    def at_next_renewal(self, resource: str) -> int:
        return self.holding(resource).total(self.scheduled_removal(resource))

    def removable(self, resource: str) -> int:
        """How much of a resource bought in the store is not yet scheduled to leave."""
        return self.holding(resource).purchased - self.scheduled_removal(resource)

    def quantities(self) -> dict[str, int]:
        """Every resource the account holds, usable today."""
        return {resource: self.quantity(resource) for resource in sorted(self.holdings)}

    def quantities_at_next_renewal(self) -> dict[str, int]:
        return {resource: self.at_next_renewal(resource) for resource in sorted(self.holdings)}

    def features(self) -> list[str]:
        return [resource for resource, quantity in self.quantities().items() if is_module(resource) and quantity]

    def grant(self, added: Mapping[str, int]) -> None:
        for resource, units in added.items():
            self.holdings.setdefault(resource, Holding(resource)).purchased += units

    def schedule(self, reduction: Reduction) -> None:
        self.pending.append(reduction)

    def contract(self, plan: Plan, included: Mapping[str, int]) -> None:
        """A new baseline: the plan's inclusions replace the old ones, store purchases stay."""
        self.plan = plan
        for resource in set(self.holdings) | set(included):
            self.holdings.setdefault(resource, Holding(resource)).included = included.get(resource, 0)
        self._forget_empty()

    def renew(self, at: datetime) -> list[Reduction]:
        """Apply the reductions requested before ``at``; the ones applied."""
        due = [reduction for reduction in self.pending if reduction.requested_at <= at]
        for reduction in due:
            for item in reduction.items:
                holding = self.holding(item.resource)
                holding.purchased = max(holding.purchased - item.units, 0)
        self.pending = [reduction for reduction in self.pending if reduction not in due]
        self._forget_empty()
        return due

    def suspend(self, reason: str) -> bool:
        """Whether the view changed."""
        changed = (self.status, self.suspended_reason) != (Status.SUSPENDED, reason)
        self.status, self.suspended_reason = Status.SUSPENDED, reason
        return changed

    def reinstate(self) -> bool:
        changed = self.suspended
        self.status, self.suspended_reason = Status.ACTIVE, None
        return changed

    def _forget_empty(self) -> None:
        self.holdings = {
            resource: holding
            for resource, holding in self.holdings.items()
            if holding.included or holding.purchased or self.scheduled_removal(resource)
        }


def baseline(included: Iterable[tuple[str, int]], modules: Iterable[str]) -> dict[str, int]:
    """The plan's inclusions by resource; a module named without its prefix gets it."""
    totals: dict[str, int] = {}
    for resource, quantity in included:
        totals[resource] = totals.get(resource, 0) + quantity
    for module in modules:
        totals[module if is_module(module) else f"module:{module}"] = 1
    return {resource: quantity for resource, quantity in totals.items() if quantity}
