"""Proration by days: what a resource activated mid-period costs until the period ends.

The remaining days run from the effective (activation) date, included, to the period's
last day, included, and are divided by the days in the period: activated on the first
day it costs the whole period, on the last day one day's share. The amount stays in UF
and is never quantized here: the single rounding is the conversion to whole pesos (see
``tienda.billing.domain.money``). The only inexactness is the one division, carried at
Decimal's context precision (28 significant digits), far below a peso.
"""

from datetime import date
from decimal import Decimal

from tienda.billing.domain.money import UF
from tienda.billing.domain.periods import Period


def remaining_days(effective: date, period: Period) -> int:
    """Days from ``effective`` to the end of ``period``, both included."""
    if not period.contains(effective):
        raise ValueError(f"effective date {effective} is outside the billing period {period}")
    return (period.end - effective).days + 1


def prorated_uf(unit_price_uf: UF, quantity: int, effective: date, period: Period) -> UF:
    """unit price × quantity × remaining days / days in the period, unrounded."""
    if unit_price_uf < 0:
        raise ValueError(f"a unit price cannot be negative, got {unit_price_uf} UF")
    if quantity < 0:
        raise ValueError(f"a quantity cannot be negative, got {quantity}")
    days = remaining_days(effective, period)
    return unit_price_uf * quantity * days / Decimal(period.days)
