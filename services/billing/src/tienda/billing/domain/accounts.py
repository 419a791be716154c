"""A billing account: the plan it pays, its cycle and anchor, and the period billed last.

An account opens in the period that contains the day its plan reached billing (the
first period if that day is before the anchor); that opening period was sold with the
plan and is not invoiced here. Each renewal invoices the next period, on its first day.
A later plan change (another PlanContracted) takes effect from the next renewal: its
price, and its cycle and anchor, which place the next renewal on the first period of the
new anchor that starts after the current period started. Plan changes are not prorated.
"""

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from functools import cached_property, lru_cache

from tienda.contracts.pricing.periods import Cycle, Period, nth_period, period_containing, period_index


@dataclass(frozen=True)
class Plan:
    code: str
    name: str
    cycle: Cycle
    anchor: date
    price_uf: Decimal


@dataclass(frozen=True)
class BillingAccount:
    account_id: str
    plan: Plan
    current_period: Period
    """The period invoiced by the last renewal (or the opening period)."""
    credit_clp: int = 0
    suspended: bool = False
    suspended_reason: str | None = None

    @property
    def months_per_period(self) -> int:
        return self.plan.cycle.months

    def period_of(self, day: date) -> Period:
        """The period a resource effective on ``day`` is prorated in."""
        if self.current_period.contains(day):
            return self.current_period
        return period_containing(self.plan.anchor, self.plan.cycle, max(day, self.plan.anchor))

    @cached_property
    def next_period(self) -> Period:
        """The period the next renewal invoices (computed once per account value: renewal asks often)."""
        return _next_period(self.plan.anchor, self.plan.cycle, self.current_period.start)

    def due_periods(self, on: date) -> list[Period]:
        """Every period whose renewal date has come by ``on`` and is not invoiced yet, oldest first."""
        due, account = [], self
        while account.next_period.start <= on:
            due.append(account.next_period)
            account = replace(account, current_period=account.next_period)
        return due


@lru_cache(maxsize=1024)
def _next_period(anchor: date, cycle: Cycle, current_start: date) -> Period:
    """The first period of ``anchor`` and ``cycle`` that starts after ``current_start``; remembered,
    as the accounts of a renewal day share their anchor and period."""
    index = period_index(anchor, cycle, max(current_start, anchor))
    candidate = nth_period(anchor, cycle, index)
    return candidate if candidate.start > current_start else nth_period(anchor, cycle, index + 1)


def open_account(account_id: str, plan: Plan, day: date) -> BillingAccount:
    """The account as its plan reaches billing on ``day``."""
    opening = period_containing(plan.anchor, plan.cycle, max(day, plan.anchor))
    return BillingAccount(account_id, plan, opening)


def change_plan(account: BillingAccount, plan: Plan) -> BillingAccount:
    """The account under a new plan from its next renewal."""
    return replace(account, plan=plan)
