"""Money is exact: each line rounded once to whole pesos half up, IVA 19% of the net rounded the same way."""

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tienda.contracts.pricing.money import Totals, round_half_up_clp, totals, uf_to_clp


def half_up(value: Fraction) -> int:
    """Rounding half up of a non-negative exact value, by integer arithmetic only."""
    return int(value + Fraction(1, 2))


@pytest.mark.parametrize(
    ("amount", "pesos"),
    [("0.5", 1), ("1.5", 2), ("2.5", 3), ("2.4999", 2), ("19561.725", 19562), ("7", 7), ("0.49", 0)],
)
def test_an_amount_is_rounded_to_whole_pesos_half_up_not_to_even(amount, pesos):
    assert round_half_up_clp(Decimal(amount)) == pesos


def test_a_negative_half_rounds_away_from_zero():
    assert round_half_up_clp(Decimal("-0.5")) == -1


def test_a_line_in_uf_is_converted_to_pesos_at_the_uf_value_and_rounded_half_up():
    assert uf_to_clp(Decimal("0.5000"), Decimal("39123.45")) == 19562
    assert uf_to_clp(Decimal("1.2000"), Decimal("38000.00")) == 45600


def test_the_conversion_rounds_once_not_first_to_decimal_precision_and_then_to_pesos():
    # The exact product is 2.4999999999999999999999999995: 29 digits, which Decimal's default
    # 28-digit context would first round to 2.5 and then half up to 3.
    assert uf_to_clp(Decimal("0.4999999999999999999999999999"), Decimal(5)) == 2


def test_a_uf_value_that_is_not_positive_is_refused():
    with pytest.raises(ValueError, match="UF value must be positive"):
        uf_to_clp(Decimal("1.0000"), Decimal(0))


def test_an_amount_that_is_not_a_number_is_refused():
    with pytest.raises(ValueError, match="is not an amount"):
        round_half_up_clp(Decimal("NaN"))


def test_the_iva_is_19_percent_of_the_net_rounded_half_up_and_added_to_it():
    assert totals([19562, 45600]) == Totals(net=65162, iva=12381, total=77543)


def test_the_iva_of_a_net_ending_in_half_a_peso_rounds_up():
    assert totals([50]) == Totals(net=50, iva=10, total=60)
    assert totals([150]) == Totals(net=150, iva=29, total=179)


def test_no_lines_total_nothing():
    assert totals([]) == Totals(0, 0, 0)


@given(st.lists(st.integers(0, 10**9), max_size=50))
def test_iva_and_total_follow_the_rule_for_any_lines(lines):
    result = totals(lines)
    assert result.net == sum(lines)
    assert result.iva == half_up(Fraction(result.net) * Fraction(19, 100))
    assert result.total == result.net + result.iva
    assert all(isinstance(figure, int) for figure in (result.net, result.iva, result.total))


@given(
    amount_uf=st.decimals(min_value=0, max_value=10_000, places=4),
    clp_per_uf=st.decimals(min_value=Decimal("0.01"), max_value=100_000, places=2),
)
def test_a_conversion_is_the_exact_product_rounded_half_up(amount_uf, clp_per_uf):
    assert uf_to_clp(amount_uf, clp_per_uf) == half_up(Fraction(amount_uf) * Fraction(clp_per_uf))
