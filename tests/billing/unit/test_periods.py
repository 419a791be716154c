"""Billing periods follow the anchor date, month ends and leap years included, and never drift."""

import calendar
import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tienda.contracts.pricing.periods import (
    Cycle,
    Period,
    anniversary,
    next_period,
    nth_period,
    period_containing,
)

ONE_DAY = timedelta(days=1)


@st.composite
def anchors(draw: st.DrawFn) -> date:
    """Any anchor, each day of the month 1..31 equally likely."""
    day = draw(st.integers(1, 31))
    year = draw(st.integers(1990, 2300))
    month = draw(st.sampled_from([m for m in range(1, 13) if calendar.monthrange(year, m)[1] >= day]))
    return date(year, month, day)


def test_an_anchor_on_the_31st_falls_on_the_last_day_of_shorter_months_and_returns_to_the_31st():
    anchor = date(2028, 1, 31)
    assert [anniversary(anchor, n) for n in range(5)] == [
        date(2028, 1, 31),
        date(2028, 2, 29),
        date(2028, 3, 31),
        date(2028, 4, 30),
        date(2028, 5, 31),
    ]


def test_an_anchor_on_the_31st_falls_on_the_28th_of_february_in_a_common_year():
    assert anniversary(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert anniversary(date(2027, 1, 31), 2) == date(2027, 3, 31)


def test_an_anniversary_crosses_the_year_end():
    assert anniversary(date(2027, 11, 30), 3) == date(2028, 2, 29)
    assert anniversary(date(2027, 12, 31), 14) == date(2029, 2, 28)


def test_monthly_periods_anchored_on_31_january_across_february_of_a_leap_year():
    anchor = date(2028, 1, 31)
    periods = [nth_period(anchor, Cycle.MONTHLY, n) for n in range(4)]
    assert periods == [
        Period(date(2028, 1, 31), date(2028, 2, 28)),
        Period(date(2028, 2, 29), date(2028, 3, 30)),
        Period(date(2028, 3, 31), date(2028, 4, 29)),
        Period(date(2028, 4, 30), date(2028, 5, 30)),
    ]
    assert [period.days for period in periods] == [29, 31, 30, 31]


def test_monthly_periods_anchored_on_31_january_across_february_of_a_common_year():
    anchor = date(2027, 1, 31)
    periods = [nth_period(anchor, Cycle.MONTHLY, n) for n in range(3)]
    assert periods == [
        Period(date(2027, 1, 31), date(2027, 2, 27)),
        Period(date(2027, 2, 28), date(2027, 3, 30)),
        Period(date(2027, 3, 31), date(2027, 4, 29)),
    ]
    assert [period.days for period in periods] == [28, 31, 30]


def test_the_day_of_the_anchor_is_in_the_first_period():
    anchor = date(2027, 1, 31)
    assert period_containing(anchor, Cycle.MONTHLY, anchor) == nth_period(anchor, Cycle.MONTHLY, 0)


def test_activation_on_the_first_day_of_a_period_is_in_that_period_not_the_one_before():
    anchor = date(2028, 1, 31)
    assert period_containing(anchor, Cycle.MONTHLY, date(2028, 2, 29)) == Period(date(2028, 2, 29), date(2028, 3, 30))


def test_activation_on_the_last_day_of_a_period_is_in_that_period_not_the_next():
    anchor = date(2028, 1, 31)
    assert period_containing(anchor, Cycle.MONTHLY, date(2028, 2, 28)) == Period(date(2028, 1, 31), date(2028, 2, 28))


def test_a_day_before_the_anchor_is_in_no_period():
    with pytest.raises(ValueError, match=r"2027-01-30 is before the billing anchor 2027-01-31"):
        period_containing(date(2027, 1, 31), Cycle.MONTHLY, date(2027, 1, 30))


def test_an_annual_period_lasts_twelve_months_and_counts_the_leap_day():
    anchor = date(2027, 3, 15)
    period = period_containing(anchor, Cycle.ANNUAL, date(2028, 3, 14))
    assert period == Period(date(2027, 3, 15), date(2028, 3, 14))
    assert period.days == 366
    assert period_containing(anchor, Cycle.ANNUAL, date(2028, 3, 15)) == Period(date(2028, 3, 15), date(2029, 3, 14))


def test_an_annual_anchor_on_29_february_renews_on_28_february_until_the_next_leap_year():
    anchor = date(2028, 2, 29)
    periods = [nth_period(anchor, Cycle.ANNUAL, n) for n in range(5)]
    assert periods == [
        Period(date(2028, 2, 29), date(2029, 2, 27)),
        Period(date(2029, 2, 28), date(2030, 2, 27)),
        Period(date(2030, 2, 28), date(2031, 2, 27)),
        Period(date(2031, 2, 28), date(2032, 2, 28)),
        Period(date(2032, 2, 29), date(2033, 2, 27)),
    ]
    assert [period.days for period in periods] == [365, 365, 365, 366, 365]


def test_a_monthly_anchor_on_29_february_returns_to_the_29th_in_march():
    anchor = date(2028, 2, 29)
    assert nth_period(anchor, Cycle.MONTHLY, 0) == Period(date(2028, 2, 29), date(2028, 3, 28))
    assert nth_period(anchor, Cycle.MONTHLY, 12) == Period(date(2029, 2, 28), date(2029, 3, 28))


def test_the_next_period_is_counted_from_the_anchor_so_it_does_not_drift_after_february():
    anchor = date(2027, 1, 31)
    period = nth_period(anchor, Cycle.MONTHLY, 0)
    starts = []
    for _ in range(12):
        period = next_period(period, anchor, Cycle.MONTHLY)
        starts.append(period.start)
    assert starts == [anniversary(anchor, n) for n in range(1, 13)]
    assert starts[-1] == date(2028, 1, 31)


def test_the_next_period_of_a_period_that_is_not_the_anchors_is_refused():
    with pytest.raises(ValueError, match="is not a monthly billing period of an account anchored on 2027-01-31"):
        next_period(Period(date(2027, 2, 1), date(2027, 2, 28)), date(2027, 1, 31), Cycle.MONTHLY)


def test_a_period_counts_both_ends_and_contains_them():
    period = Period(date(2027, 2, 1), date(2027, 2, 28))
    assert period.days == 28
    assert period.contains(date(2027, 2, 1))
    assert period.contains(date(2027, 2, 28))
    assert not period.contains(date(2027, 1, 31))
    assert not period.contains(date(2027, 3, 1))


def test_a_period_cannot_end_before_it_starts():
    with pytest.raises(ValueError, match="cannot end"):
        Period(date(2027, 2, 2), date(2027, 2, 1))


def test_there_is_no_period_before_the_first():
    with pytest.raises(ValueError, match="negative"):
        nth_period(date(2027, 1, 31), Cycle.MONTHLY, -1)


@given(anchor=anchors(), cycle=st.sampled_from(Cycle))
def test_consecutive_periods_tile_the_calendar_with_no_gap_and_no_overlap(anchor, cycle):
    periods = [nth_period(anchor, cycle, n) for n in range(31)]
    assert periods[0].start == anchor
    for period, following in itertools.pairwise(periods):
        assert following.start == period.end + ONE_DAY
        assert next_period(period, anchor, cycle) == following
        assert period_containing(anchor, cycle, period.start) == period
        assert period_containing(anchor, cycle, period.end) == period


@given(anchor=anchors(), months_after=st.integers(-1200, 1200))
def test_an_anniversary_returns_to_the_anchors_day_whenever_the_month_has_it(anchor, months_after):
    moved = anniversary(anchor, months_after)
    assert (moved.year * 12 + moved.month) - (anchor.year * 12 + anchor.month) == months_after
    last_day = calendar.monthrange(moved.year, moved.month)[1]
    assert moved.day == (anchor.day if anchor.day <= last_day else last_day)


@given(anchor=anchors(), cycle=st.sampled_from(Cycle), offset=st.integers(0, 20 * 366))
def test_the_period_containing_a_day_contains_it(anchor, cycle, offset):
    day = anchor + timedelta(days=offset)
    period = period_containing(anchor, cycle, day)
    assert period.contains(day)
    assert period.start in {anniversary(anchor, n * cycle.months) for n in range(offset // 28 + 2)}
