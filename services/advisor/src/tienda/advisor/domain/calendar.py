"""Business hours on the America/Santiago calendar: when a first response is due.

A business day is Monday to Friday, not a Chilean public holiday, from ``opens`` to
``closes`` local time (default 09:00 to 18:00). Time outside business hours does not
count: a request sent on Friday at 17:00 with 8 business hours due is due on Monday at
16:00. The public holidays come from the ``holidays`` package's calendar of Chile (feriados
legales, with the moved dates applied: San Pedro y San Pablo and Encuentro de Dos Mundos
on a Monday, the extra Fiestas Patrias days of Ley 20.983), for any year; days the
configuration adds (``TIENDA_ADVISOR_EXTRA_HOLIDAYS``, e.g. an election day declared late)
are off too.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from holidays import HolidayBase, country_holidays

SANTIAGO = ZoneInfo("America/Santiago")
SATURDAY = 5


def chilean_public_holidays() -> HolidayBase:
    """Chile's public holidays, named in Spanish; a year's days are worked out the first time it is asked."""
    return country_holidays("CL", language="es")


def public_holidays_of(year: int) -> dict[date, str]:
    """Every Chilean public holiday of ``year``, by day."""
    return dict(sorted(country_holidays("CL", years=year, language="es").items()))


@dataclass(frozen=True)
class BusinessCalendar:
    """Working hours on working days, in one time zone."""

    opens: time = time(9)
    closes: time = time(18)
    extra_holidays: frozenset[date] = frozenset()
    zone: ZoneInfo = SANTIAGO
    public_holidays: HolidayBase = field(default_factory=chilean_public_holidays, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.opens >= self.closes:
            raise ValueError(f"business hours must open before they close: {self.opens} to {self.closes}")

    def with_holidays(self, extra: Iterable[date]) -> "BusinessCalendar":
        """The same calendar with more days off."""
        return BusinessCalendar(
            self.opens, self.closes, self.extra_holidays | frozenset(extra), self.zone, self.public_holidays
        )

    def is_holiday(self, day: date) -> bool:
        return day in self.extra_holidays or day in self.public_holidays

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < SATURDAY and not self.is_holiday(day)

    def add_business_hours(self, start: datetime, hours: float) -> datetime:
        """The moment ``hours`` business hours after ``start`` (aware), in UTC."""
        if start.tzinfo is None:
            raise ValueError("start must be an aware datetime")
        remaining = timedelta(hours=hours)
        cursor = self._next_open_moment(start.astimezone(self.zone).replace(tzinfo=None))
        while True:
            closing = datetime.combine(cursor.date(), self.closes)
            if cursor + remaining <= closing:
                return self._to_utc(cursor + remaining)
            remaining -= closing - cursor
            cursor = self._next_open_moment(closing)

    def business_time_between(self, start: datetime, end: datetime) -> timedelta:
        """How much business time passes from ``start`` to ``end`` (zero if end is earlier)."""
        total = timedelta()
        cursor = self._next_open_moment(start.astimezone(self.zone).replace(tzinfo=None))
        last = end.astimezone(self.zone).replace(tzinfo=None)
        while cursor < last:
            closing = datetime.combine(cursor.date(), self.closes)
            total += min(closing, last) - cursor
            cursor = self._next_open_moment(closing)
        return total

    def _next_open_moment(self, local: datetime) -> datetime:
        """``local`` itself if within business hours, else the next opening (naive local time)."""
        day = local.date()
        if self.is_business_day(day) and local.time() < self.closes:
            return max(local, datetime.combine(day, self.opens))
        day += timedelta(days=1)
        while not self.is_business_day(day):
            day += timedelta(days=1)
        return datetime.combine(day, self.opens)

    def _to_utc(self, local: datetime) -> datetime:
        return local.replace(tzinfo=self.zone).astimezone(UTC)
