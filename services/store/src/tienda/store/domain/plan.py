"""An account's plan and entitlements: the plan's baseline, what the store sold, what leaves at renewal.

Each resource (users, dte_monthly, payroll_workers, legal_entities, module:<name>) is held
as ``included`` (by the plan) plus ``purchased`` (bought in the store). A plan change
replaces the baseline and **keeps what was bought in the store**. A reduction lowers
``purchased`` only, and not at once: it waits as scheduled until the next renewal, which
the store learns from the next PlanContracted of the account (the ERP restates the plan
at each renewal and on each change); until then the account keeps using what it pays for.
A module is active or not: included and bought at once still count once.

Time comes from the messages (their ``occurred_at``), never from the order in which they reach
the store: a reduction is applied by the first PlanContracted that occurred after it, even when
it reaches the store after that plan; a cart is judged by the status the account had when the
customer activated it, as far as the store has heard (see README, "Ordering").
"""

from collections.abc import Iterable, Mapping, Sequence
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


@dataclass(frozen=True)
class Standing:
    """Whether the account may buy: its status and, when suspended, why."""

    status: Status = Status.ACTIVE
    reason: str | None = None

    @property
    def suspended(self) -> bool:
        return self.status is Status.SUSPENDED


@dataclass(frozen=True)
class StatusChange:
    """A suspension or reinstatement, at the moment it occurred."""

    at: datetime
    standing: Standing


def standing_at(history: Sequence[StatusChange], moment: datetime) -> Standing:
    """The standing in force at ``moment``: the latest change that occurred by then (active before any)."""
    earlier = [change for change in history if change.at <= moment]
    return max(earlier, key=lambda change: change.at).standing if earlier else Standing()


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
    since: datetime | None = None
    """When the account's first plan was contracted (None: before the store kept it)."""
    restated_at: datetime | None = None
    """When the plan the store holds was contracted or last restated (its PlanContracted occurred)."""
    restated_by: str | None = None
    """The event id of that PlanContracted."""
    status_since: datetime | None = None
    """When the latest suspension or reinstatement the store handled occurred."""

    @classmethod
    def contracted(cls, account_id: str, plan: Plan, included: Mapping[str, int]) -> "Account":
        account = cls(account_id, plan)
        account.contract(plan, included)
        return account

    @property
    def suspended(self) -> bool:
        return self.status is Status.SUSPENDED

    @property
    def standing(self) -> Standing:
        return Standing(self.status, self.suspended_reason)

    def standing_changed_after(self, moment: datetime) -> bool:
        """Whether a status change the store handled occurred after ``moment`` (then the standing
        at ``moment`` is found in the account's status history)."""
        return self.status_since is not None and moment < self.status_since

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

    def schedule(self, reduction: Reduction) -> list[Reduction]:
        """Schedule ``reduction`` for the next renewal; the reductions this applied at once.

        A reduction requested before the plan the store holds was contracted or restated missed
        that renewal only because it reached the store after it (the two travel on different
        topics): it is applied now, as that PlanContracted would have applied it."""
        self.pending.append(reduction)
        if self.restated_at is not None and reduction.requested_at <= self.restated_at:
            return self.renew(self.restated_at)
        return []

    def contract(self, plan: Plan, included: Mapping[str, int]) -> None:
        """A new baseline: the plan's inclusions replace the old ones, store purchases stay."""
        self.plan = plan
        for resource in set(self.holdings) | set(included):
            self.holdings.setdefault(resource, Holding(resource)).included = included.get(resource, 0)
        self._forget_empty()

    def opened(self, at: datetime, event_id: str) -> None:
        """The account's first plan, contracted by the PlanContracted ``event_id`` that occurred ``at``."""
        self.since = at
        self.restated(at, event_id)

    def restated(self, at: datetime, event_id: str) -> None:
        """The plan was contracted or restated by the PlanContracted ``event_id`` that occurred ``at``."""
        self.restated_at, self.restated_by = at, event_id

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

    def suspend(self, reason: str, at: datetime | None = None) -> bool:
        """Suspended from ``at`` (when it occurred); whether the view changed."""
        return self._change(Standing(Status.SUSPENDED, reason), at)

    def reinstate(self, at: datetime | None = None) -> bool:
        return self._change(Standing(), at)

    def _change(self, standing: Standing, at: datetime | None) -> bool:
        changed = self.standing != standing
        self.status, self.suspended_reason = standing.status, standing.reason
        if changed and at is not None:
            self.status_since = max(at, self.status_since) if self.status_since else at
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
