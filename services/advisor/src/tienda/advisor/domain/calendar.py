"""Business hours on the America/Santiago calendar: when a first response is due.

A business day is Monday to Friday, not a Chilean public holiday, from ``opens`` to
``closes`` local time (default 09:00 to 18:00). Time outside business hours does not
count: a request sent on Friday at 17:00 with 8 business hours due is due on Monday at
16:00. Public holidays are a fixed table for 2026 and 2027 (below); outside those years
only weekends are off, plus whatever ``extra_holidays`` the configuration adds.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SANTIAGO = ZoneInfo("America/Santiago")

# Feriados legales de Chile (Ley 2.977 and later laws), with the moved dates already
# applied: San Pedro y San Pablo and Encuentro de Dos Mundos move to a Monday, and
# 17 September 2027 is a holiday because the 18th falls on a Saturday.
CHILEAN_PUBLIC_HOLIDAYS: dict[date, str] = {
    date(2026, 1, 1): "Año Nuevo",
    date(2026, 4, 3): "Viernes Santo",
    date(2026, 4, 4): "Sábado Santo",
    date(2026, 5, 1): "Día Nacional del Trabajo",
    date(2026, 5, 21): "Día de las Glorias Navales",
    date(2026, 6, 21): "Día Nacional de los Pueblos Indígenas",
    date(2026, 6, 29): "San Pedro y San Pablo",
    date(2026, 7, 16): "Día de la Virgen del Carmen",
    date(2026, 8, 15): "Asunción de la Virgen",
    date(2026, 9, 18): "Independencia Nacional",
    date(2026, 9, 19): "Día de las Glorias del Ejército",
    date(2026, 10, 12): "Encuentro de Dos Mundos",
    date(2026, 10, 31): "Día de las Iglesias Evangélicas y Protestantes",
    date(2026, 11, 1): "Día de Todos los Santos",
    date(2026, 12, 8): "Inmaculada Concepción",
    date(2026, 12, 25): "Navidad",
    date(2027, 1, 1): "Año Nuevo",
    date(2027, 3, 26): "Viernes Santo",
    date(2027, 3, 27): "Sábado Santo",
    date(2027, 5, 1): "Día Nacional del Trabajo",
    date(2027, 5, 21): "Día de las Glorias Navales",
    date(2027, 6, 21): "Día Nacional de los Pueblos Indígenas",
    date(2027, 6, 28): "San Pedro y San Pablo",
    date(2027, 7, 16): "Día de la Virgen del Carmen",
    date(2027, 8, 15): "Asunción de la Virgen",
    date(2027, 9, 17): "Feriado adicional de Fiestas Patrias",
    date(2027, 9, 18): "Independencia Nacional",
    date(2027, 9, 19): "Día de las Glorias del Ejército",
    date(2027, 10, 11): "Encuentro de Dos Mundos",
    date(2027, 10, 31): "Día de las Iglesias Evangélicas y Protestantes",
    date(2027, 11, 1): "Día de Todos los Santos",
    date(2027, 12, 8): "Inmaculada Concepción",
    date(2027, 12, 25): "Navidad",
}

SATURDAY = 5


@dataclass(frozen=True)
class BusinessCalendar:
    """Working hours on working days, in one time zone."""

    opens: time = time(9)
    closes: time = time(18)
    holidays: frozenset[date] = field(default_factory=lambda: frozenset(CHILEAN_PUBLIC_HOLIDAYS))
    zone: ZoneInfo = SANTIAGO

    def __post_init__(self) -> None:
        if self.opens >= self.closes:
            raise ValueError(f"business hours must open before they close: {self.opens} to {self.closes}")

    def with_holidays(self, extra: Iterable[date]) -> "BusinessCalendar":
        return BusinessCalendar(self.opens, self.closes, self.holidays | frozenset(extra), self.zone)

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < SATURDAY and day not in self.holidays

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
