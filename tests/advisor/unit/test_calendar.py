"""First responses are due in business hours on the America/Santiago calendar:
weekends and Chilean public holidays (2026-2027) do not count."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tienda.advisor.domain.calendar import CHILEAN_PUBLIC_HOLIDAYS, BusinessCalendar

SANTIAGO = ZoneInfo("America/Santiago")
CALENDAR = BusinessCalendar()


def santiago(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SANTIAGO)


def due(start: datetime, hours: float, calendar: BusinessCalendar = CALENDAR) -> datetime:
    return calendar.add_business_hours(start, hours).astimezone(SANTIAGO)


def test_a_request_sent_on_friday_afternoon_is_due_on_monday():
    assert due(santiago(2026, 3, 13, 17, 0), 8) == santiago(2026, 3, 16, 16, 0)


def test_a_request_sent_on_saturday_counts_from_monday_opening():
    assert due(santiago(2026, 3, 14, 11, 30), 8) == santiago(2026, 3, 16, 17, 0)


def test_a_request_sent_before_opening_counts_from_opening():
    assert due(santiago(2026, 3, 11, 7, 45), 2) == santiago(2026, 3, 11, 11, 0)


def test_a_request_sent_after_closing_counts_from_the_next_morning():
    assert due(santiago(2026, 3, 11, 20, 15), 2) == santiago(2026, 3, 12, 11, 0)


def test_fiestas_patrias_and_the_weekend_after_them_do_not_count():
    # Thursday 17 September 2026 at 15:00; Friday 18 and Saturday 19 are holidays.
    assert due(santiago(2026, 9, 17, 15, 0), 8) == santiago(2026, 9, 21, 14, 0)


def test_new_year_is_skipped_but_new_years_eve_is_a_business_day():
    assert due(santiago(2026, 12, 31, 14, 0), 8) == santiago(2027, 1, 4, 13, 0)


def test_easter_friday_2027_is_skipped():
    assert due(santiago(2027, 3, 25, 10, 0), 16) == santiago(2027, 3, 29, 17, 0)


def test_the_extra_fiestas_patrias_friday_of_2027_is_a_holiday():
    assert date(2027, 9, 17) in CHILEAN_PUBLIC_HOLIDAYS
    assert due(santiago(2027, 9, 16, 17, 0), 2) == santiago(2027, 9, 20, 10, 0)


def test_the_end_of_summer_time_over_easter_weekend_gives_the_right_utc_moment():
    # Chile leaves summer time (UTC-3) for UTC-4 in the night of 4 to 5 April 2026.
    start = santiago(2026, 4, 2, 17, 0)
    assert start.utcoffset() == timedelta(hours=-3)
    assert CALENDAR.add_business_hours(start, 8) == datetime(2026, 4, 6, 20, 0, tzinfo=UTC)


def test_configured_hours_and_extra_holidays_are_honoured():
    short_days = BusinessCalendar(time(8, 30), time(13, 0)).with_holidays([date(2026, 3, 16)])
    assert due(santiago(2026, 3, 13, 12, 0), 2, short_days) == santiago(2026, 3, 17, 9, 30)


def test_business_hours_must_open_before_they_close():
    with pytest.raises(ValueError, match="open before they close"):
        BusinessCalendar(time(18), time(9))


def test_the_holiday_table_covers_2026_and_2027():
    assert {day.year for day in CHILEAN_PUBLIC_HOLIDAYS} == {2026, 2027}
    assert len([d for d in CHILEAN_PUBLIC_HOLIDAYS if d.year == 2026]) == 16


moments = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 11, 30), timezones=st.just(UTC))
hours = st.integers(min_value=1, max_value=400).map(lambda quarters: quarters / 4)


@given(moments, hours)
def test_a_due_time_always_falls_within_business_hours(start, business_hours):
    local = due(start, business_hours)
    assert CALENDAR.is_business_day(local.date())
    assert time(9) < local.time() <= time(18)


@given(moments, hours)
def test_exactly_the_business_hours_asked_for_pass_until_the_due_time(start, business_hours):
    end = CALENDAR.add_business_hours(start, business_hours)
    assert CALENDAR.business_time_between(start, end) == timedelta(hours=business_hours)


@given(moments, hours, hours)
def test_more_hours_are_never_due_earlier(start, fewer, more):
    fewer, more = sorted((fewer, more))
    assert CALENDAR.add_business_hours(start, fewer) <= CALENDAR.add_business_hours(start, more)
