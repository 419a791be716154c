"""Billing cycles: the periods an account is billed for, counted from its anchor date.

The anchor is the day the plan was contracted. Period ``n`` (from 0) starts on the
anchor's anniversary ``n`` cycles later and ends the day before the next one starts, so
consecutive periods tile the calendar with no gap and no overlap. Every period is
computed from the anchor and its index, never by adding months to the previous period's
end: an anchor on the 31st falls on 28/29 February and returns to the 31st in March.
An anchor on 29 February renews on 28 February in common years and on the 29th in leap
years. No period contains a day before the anchor; asking for one is an error.
"""

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum

ONE_DAY = timedelta(days=1)


class Cycle(Enum):
    MONTHLY = "monthly"
    ANNUAL = "annual"

    @property
    def months(self) -> int:
        return 12 if self is Cycle.ANNUAL else 1


@dataclass(frozen=True)
class Period:
    """A billing period, ``start`` and ``end`` both included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"a period cannot end ({self.end}) before it starts ({self.start})")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def __str__(self) -> str:
        return f"{self.start} to {self.end}"


def anniversary(anchor: date, months_after: int) -> date:
    """The anchor's day ``months_after`` months later, or that month's last day if it is shorter."""
    year, month_index = divmod(anchor.year * 12 + anchor.month - 1 + months_after, 12)
    month = month_index + 1
    last_day = calendar.monthrange(year, month)[1]
    return date(year, month, min(anchor.day, last_day))


def nth_period(anchor: date, cycle: Cycle, index: int) -> Period:
    """Period ``index`` of the account, the first being 0 (it starts on the anchor)."""
    if index < 0:
        raise ValueError(f"period index {index} is negative: the first period, starting on {anchor}, is 0")
    start = anniversary(anchor, index * cycle.months)
    next_start = anniversary(anchor, (index + 1) * cycle.months)
    return Period(start, next_start - ONE_DAY)


def period_index(anchor: date, cycle: Cycle, day: date) -> int:
    """The index of the period that contains ``day``."""
    if day < anchor:
        raise ValueError(f"{day} is before the billing anchor {anchor}: no billing period contains it")
    months = (day.year - anchor.year) * 12 + day.month - anchor.month
    index = months // cycle.months
    if anniversary(anchor, index * cycle.months) > day:
        index -= 1
    return index


def period_containing(anchor: date, cycle: Cycle, day: date) -> Period:
    """The period of an account anchored on ``anchor`` that contains ``day``."""
    return nth_period(anchor, cycle, period_index(anchor, cycle, day))


def next_period(period: Period, anchor: date, cycle: Cycle) -> Period:
    """The period right after ``period``, which must be one of this anchor's periods."""
    index = period_index(anchor, cycle, period.start)
    if nth_period(anchor, cycle, index) != period:
        raise ValueError(f"{period} is not a {cycle.value} billing period of an account anchored on {anchor}")
    return nth_period(anchor, cycle, index + 1)
