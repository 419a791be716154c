"""Documents: each line in pesos rounded once, lines summing to the net, IVA and total by the rule."""

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tienda.billing.domain.documents import Conversion, Line, LineKind, document_totals, price, price_all
from tienda.billing.domain.payments import Balance, Settlement, issue, settle
from tienda.contracts.pricing.periods import Cycle, nth_period

FEBRUARY = nth_period(date(2027, 1, 31), Cycle.MONTHLY, 0)  # 31 Jan to 27 Feb 2027, 28 days
ON_10_FEB = Conversion(date(2027, 2, 10), Decimal("39123.45"))


def half_up(value: Fraction) -> int:
    return int(value + Fraction(1, 2))


def users(days: int, quantity: int = 2, conversion: Conversion | None = None) -> Line:
    return Line(
        LineKind.PRORATED,
        "Usuario adicional",
        "USR-EXTRA",
        quantity,
        Decimal("0.5000"),
        1,
        FEBRUARY,
        days,
        conversion=conversion,
    )


def test_a_line_is_converted_from_its_exact_amount_not_from_the_four_decimals_shown():
    line = users(18)
    assert line.amount_uf == Fraction(9, 14)
    assert line.amount_uf_shown == Decimal("0.6429")
    assert price(line, ON_10_FEB).amount_clp == 25_151  # 0.642857... × 39,123.45 = 25,150.79
    assert half_up(Fraction("0.6429") * Fraction("39123.45")) == 25_152  # what rounding the UF first would give


def test_a_carried_line_keeps_the_conversion_of_its_order():
    on_28_feb = Conversion(date(2027, 2, 28), Decimal("39200.00"))
    carried = price(users(18, conversion=ON_10_FEB), on_28_feb)
    assert (carried.conversion, carried.amount_clp) == (ON_10_FEB, 25_151)


def test_a_line_cannot_charge_more_days_than_its_period_has():
    with pytest.raises(ValueError, match="1 to 28 days"):
        users(29)


@st.composite
def lines(draw: st.DrawFn) -> Line:
    anchor = draw(st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)))
    cycle = draw(st.sampled_from(Cycle))
    period = nth_period(anchor, cycle, draw(st.integers(0, 30)))
    return Line(
        draw(st.sampled_from(LineKind)),
        "línea",
        "SKU-1",
        draw(st.integers(1, 500)),
        draw(st.decimals(min_value=0, max_value=100, places=4)),
        cycle.months,
        period,
        draw(st.integers(1, period.days)),
    )


conversions = st.builds(
    Conversion,
    st.just(date(2027, 2, 28)),
    st.decimals(min_value=Decimal("20000.00"), max_value=Decimal("60000.00"), places=2),
)


@given(st.lists(lines(), min_size=1, max_size=30), conversions)
def test_invoice_lines_sum_to_the_net_and_iva_and_total_follow_the_rule(document, conversion):
    priced = price_all(document, conversion)
    figures = document_totals(priced)
    assert figures.net == sum(line.amount_clp for line in priced)
    assert figures.iva == half_up(Fraction(figures.net) * Fraction(19, 100))
    assert figures.total == figures.net + figures.iva
    for line in priced:
        exact = Fraction(line.line.unit_price_uf) * line.line.months * line.line.quantity * line.line.days
        assert line.amount_clp == half_up(exact / line.line.period.days * Fraction(conversion.clp_per_uf))


@given(due=st.integers(0, 10**8), amount=st.integers(1, 10**8))
def test_a_payment_is_never_applied_beyond_what_is_due_and_nothing_is_lost(due, amount):
    settled = settle(due, amount)
    assert settled.applied + settled.credit == amount
    assert settled.applied + settled.balance_due == due
    assert min(settled.applied, settled.credit, settled.balance_due) >= 0


def test_full_partial_and_over_payments():
    assert settle(29_930, 29_930) == Settlement(applied=29_930, credit=0, balance_due=0)
    assert (settle(29_930, 20_000).balance_due, settle(29_930, 40_000).credit) == (9_930, 10_070)
    assert Balance(29_930, 0, 20_000).status.value == "partially_paid"
    assert Balance(29_930, 29_930, 0).status.value == "paid"


@given(total=st.integers(0, 10**7), paid=st.integers(0, 10**7), credit=st.integers(0, 10**7))
def test_issuing_a_document_uses_payments_then_credit_and_keeps_every_peso(total, paid, credit):
    result = issue(total, paid, credit)
    balance = result.balance
    assert balance.due >= 0
    assert balance.paid + result.over_payment == paid
    assert balance.credit_applied + result.credit_left == credit + result.over_payment
    assert balance.paid + balance.credit_applied + balance.due == total


def test_days_after_the_period_are_not_in_it():
    assert FEBRUARY.end + timedelta(days=1) == date(2027, 2, 28)
