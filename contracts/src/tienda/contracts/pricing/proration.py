"""Proration by days: what a resource activated mid-period costs until the period ends.

The remaining days run from the effective (activation) date, included, to the period's
last day, included, and are divided by the days in the period: activated on the first
day it costs the whole period, on the last day one day's share. The amount stays in UF
and is never rounded here: ``prorated_share`` is the exact fraction, and the single
rounding is its conversion to whole pesos (see ``tienda.contracts.pricing.money``).
``prorated_uf`` gives the same amount as a Decimal (28 significant digits) for reading.
"""

from datetime import date
from decimal import Decimal
from fractions import Fraction

from tienda.contracts.pricing.money import UF
from tienda.contracts.pricing.periods import Period


def remaining_days(effective: date, period: Period) -> int:
    """Days from ``effective`` to the end of ``period``, both included."""
    if not period.contains(effective):
        raise ValueError(f"effective date {effective} is outside the billing period {period}")
    return (period.end - effective).days + 1


def prorated_share(unit_price_uf: UF, quantity: int, effective: date, period: Period) -> Fraction:
    """unit price × quantity × remaining days / days in the period, exactly."""
    if unit_price_uf < 0:
        raise ValueError(f"a unit price cannot be negative, got {unit_price_uf} UF")
    if quantity < 0:
        raise ValueError(f"a quantity cannot be negative, got {quantity}")
    days = remaining_days(effective, period)
    return Fraction(unit_price_uf) * quantity * days / period.days


def prorated_uf(unit_price_uf: UF, quantity: int, effective: date, period: Period) -> UF:
    """unit price × quantity × remaining days / days in the period, unrounded (to Decimal's precision)."""
    share = prorated_share(unit_price_uf, quantity, effective, period)
    return Decimal(share.numerator) / Decimal(share.denominator)


def line_amount_uf(unit_price_uf: UF, months: int, quantity: int, days: int, period_days: int) -> Fraction:
    """A document line's exact amount in UF: unit price (per unit per month) × months of price per
    period × quantity × days charged / days in the period. Never rounded (pesos come from it once)."""
    return Fraction(unit_price_uf) * months * quantity * days / period_days
