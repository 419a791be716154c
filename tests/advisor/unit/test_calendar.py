"""First responses are due in business hours on the America/Santiago calendar:
weekends and Chilean public holidays (of any year, from the ``holidays`` package) do not count."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tienda.advisor.bootstrap import policy
from tienda.advisor.config import AdvisorSettings
from tienda.advisor.domain.calendar import BusinessCalendar, public_holidays_of

SANTIAGO = ZoneInfo("America/Santiago")
CALENDAR = BusinessCalendar()

# The feriados legales of 2026 and 2027 as they were kept by hand (Ley 2.977 and later laws,
# moved dates applied), checked against the official calendar: the package must agree.
HAND_KEPT_2026_2027 = {
    date(2026, 1, 1), date(2026, 4, 3), date(2026, 4, 4), date(2026, 5, 1), date(2026, 5, 21),
    date(2026, 6, 21), date(2026, 6, 29), date(2026, 7, 16), date(2026, 8, 15), date(2026, 9, 18),
    date(2026, 9, 19), date(2026, 10, 12), date(2026, 10, 31), date(2026, 11, 1), date(2026, 12, 8),
    date(2026, 12, 25),
    date(2027, 1, 1), date(2027, 3, 26), date(2027, 3, 27), date(2027, 5, 1), date(2027, 5, 21),
    date(2027, 6, 21), date(2027, 6, 28), date(2027, 7, 16), date(2027, 8, 15), date(2027, 9, 17),
    date(2027, 9, 18), date(2027, 9, 19), date(2027, 10, 11), date(2027, 10, 31), date(2027, 11, 1),
    date(2027, 12, 8), date(2027, 12, 25),
}  # fmt: skip


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
    assert date(2027, 9, 17) in public_holidays_of(2027)
    assert not CALENDAR.is_business_day(date(2027, 9, 17))
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


def test_the_holiday_calendar_of_2026_and_2027_is_the_one_kept_by_hand():
    assert set(public_holidays_of(2026)) | set(public_holidays_of(2027)) == HAND_KEPT_2026_2027
    assert len(public_holidays_of(2026)) == 16


def test_fiestas_patrias_2028_are_days_off_beyond_the_old_table():
    # Friday 15 September 2028 at 17:00; Monday 18 and Tuesday 19 are holidays.
    assert {date(2028, 9, 18), date(2028, 9, 19)} <= set(public_holidays_of(2028))
    assert not CALENDAR.is_business_day(date(2028, 9, 18))
    assert due(santiago(2028, 9, 15, 17, 0), 8) == santiago(2028, 9, 20, 16, 0)


def test_good_friday_2028_moves_with_easter():
    assert public_holidays_of(2028)[date(2028, 4, 14)] == "Viernes Santo"
    assert due(santiago(2028, 4, 13, 14, 0), 8) == santiago(2028, 4, 17, 13, 0)


def test_the_fiestas_patrias_friday_of_2030_is_a_holiday_too():
    # 2030: the 18th is a Wednesday, the 19th a Thursday, and Friday the 20th is added (Ley 20.983).
    assert {date(2030, 9, 18), date(2030, 9, 19), date(2030, 9, 20)} <= set(public_holidays_of(2030))
    assert due(santiago(2030, 9, 17, 10, 0), 16) == santiago(2030, 9, 23, 17, 0)


def test_glorias_navales_2030_on_a_tuesday_is_a_day_off():
    assert not CALENDAR.is_business_day(date(2030, 5, 21))
    assert due(santiago(2030, 5, 20, 17, 0), 2) == santiago(2030, 5, 22, 10, 0)


def test_extra_holidays_are_honoured_in_any_year():
    # An election day declared late: Monday 20 November 2028 is not in the package's calendar.
    assert CALENDAR.is_business_day(date(2028, 11, 20))
    with_election = CALENDAR.with_holidays([date(2028, 11, 20)])
    assert not with_election.is_business_day(date(2028, 11, 20))
    assert due(santiago(2028, 11, 17, 17, 0), 2, with_election) == santiago(2028, 11, 21, 10, 0)


moments = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2030, 11, 30), timezones=st.just(UTC))
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


def test_the_workers_extra_holidays_come_from_its_environment(monkeypatch):
    monkeypatch.setenv("TIENDA_ADVISOR_EXTRA_HOLIDAYS", '["2028-11-20"]')
    calendar = policy(AdvisorSettings()).calendar
    assert not calendar.is_business_day(date(2028, 11, 20))
    assert not calendar.is_business_day(date(2028, 9, 18))
    assert calendar.is_business_day(date(2028, 11, 21))
