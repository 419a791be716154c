"""Proration by days: remaining days of the period, activation day included, over the period's days."""

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tienda.contracts.pricing.money import uf_to_clp
from tienda.contracts.pricing.periods import Cycle, Period, nth_period, period_containing
from tienda.contracts.pricing.proration import prorated_uf, remaining_days

JANUARY = Period(date(2027, 1, 1), date(2027, 1, 31))


def test_activation_on_the_first_day_of_the_period_costs_the_whole_period():
    assert prorated_uf(Decimal("0.5000"), 3, JANUARY.start, JANUARY) == Decimal("1.5000")


def test_activation_on_the_last_day_of_the_period_costs_one_days_share():
    assert remaining_days(JANUARY.end, JANUARY) == 1
    assert prorated_uf(Decimal("0.5000"), 3, JANUARY.end, JANUARY) == Decimal("1.5000") / 31


def test_the_activation_day_is_counted():
    assert remaining_days(date(2027, 1, 17), JANUARY) == 15
    assert prorated_uf(Decimal("0.5000"), 3, date(2027, 1, 17), JANUARY) == Decimal("22.5") / 31


def test_the_uf_amount_is_not_rounded_to_four_decimals():
    amount = prorated_uf(Decimal("1.0000"), 1, date(2027, 1, 21), JANUARY)
    assert amount == Decimal(11) / 31
    assert amount != amount.quantize(Decimal("0.0001"))


def test_february_of_a_leap_year_has_one_more_day_to_share_the_price():
    leap = period_containing(date(2028, 1, 31), Cycle.MONTHLY, date(2028, 2, 15))
    common = period_containing(date(2027, 1, 31), Cycle.MONTHLY, date(2027, 2, 15))
    assert (leap.days, common.days) == (29, 28)
    assert prorated_uf(Decimal("1.0000"), 2, date(2028, 2, 15), leap) == Decimal(28) / 29
    assert prorated_uf(Decimal("1.0000"), 2, date(2027, 2, 15), common) == Decimal(26) / 28


def test_a_prorated_line_is_rounded_once_in_pesos():
    period = nth_period(date(2028, 1, 31), Cycle.MONTHLY, 0)
    amount = prorated_uf(Decimal("0.5000"), 2, date(2028, 2, 15), period)
    exact = Fraction(1) * 14 / 29 * Fraction("39000.00")
    assert uf_to_clp(amount, Decimal("39000.00")) == int(exact + Fraction(1, 2)) == 18828


def test_an_annual_period_is_prorated_over_its_days():
    period = nth_period(date(2027, 3, 15), Cycle.ANNUAL, 0)
    assert prorated_uf(Decimal("12.0000"), 1, date(2028, 3, 14), period) == Decimal(12) / 366


@pytest.mark.parametrize("effective", [date(2026, 12, 31), date(2027, 2, 1)])
def test_an_effective_date_outside_the_period_is_refused_naming_the_dates(effective):
    with pytest.raises(
        ValueError, match=rf"effective date {effective} is outside the billing period 2027-01-01 to 2027-01-31"
    ):
        prorated_uf(Decimal("0.5000"), 1, effective, JANUARY)


def test_a_negative_quantity_or_price_is_refused():
    with pytest.raises(ValueError, match="quantity cannot be negative"):
        prorated_uf(Decimal("0.5000"), -1, JANUARY.start, JANUARY)
    with pytest.raises(ValueError, match="price cannot be negative"):
        prorated_uf(Decimal("-0.5000"), 1, JANUARY.start, JANUARY)


@given(
    unit_price=st.decimals(min_value=0, max_value=1000, places=4),
    quantity=st.integers(0, 5000),
    anchor=st.dates(min_value=date(2000, 1, 1), max_value=date(2200, 12, 31)),
    cycle=st.sampled_from(Cycle),
    index=st.integers(0, 40),
    day_offset=st.integers(0, 365),
)
def test_a_prorated_amount_is_never_negative_and_never_exceeds_the_full_period(
    unit_price, quantity, anchor, cycle, index, day_offset
):
    period = nth_period(anchor, cycle, index)
    effective = min(period.start + timedelta(days=day_offset), period.end)
    amount = prorated_uf(unit_price, quantity, effective, period)
    full = unit_price * quantity
    assert 0 <= amount <= full
    assert prorated_uf(unit_price, quantity, period.start, period) == full
    exact = Fraction(unit_price) * quantity * remaining_days(effective, period) / period.days
    assert abs(Fraction(amount) - exact) <= Fraction(1, 10**20)
