"""Money: prices in UF, invoices in whole Chilean pesos, IVA on the net.

Rounding happens once per amount, in CLP, and nowhere else. UF amounts (catalog prices
of 4 decimals, and prorated amounts, which are exact fractions) keep their full
precision; each line is converted to CLP by multiplying its UF amount by the UF value
(CLP per UF) exactly and rounding that product once to whole pesos, half up (.5 goes
away from zero). The net is the sum of the rounded lines; IVA is 19% of the net, rounded
to whole pesos half up in the same way; the total is the net plus the IVA. The 4-decimal
UF figure a document shows beside a line is for reading only: pesos never come from it.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import TypeAlias

UF: TypeAlias = Decimal
"""An amount in Unidades de Fomento; catalog prices carry 4 decimals."""

CLP: TypeAlias = int
"""An amount in Chilean pesos, which have no minor unit."""

UF_QUANTUM = Decimal("0.0001")
IVA_RATE = Fraction(19, 100)
_HALF = Fraction(1, 2)


def round_half_up_clp(amount: Decimal | Fraction) -> CLP:
    """``amount`` pesos rounded to whole pesos, half up (a half goes away from zero).

    This is the one rounding of the code: every peso figure passes through here."""
    exact = _exact(amount)
    magnitude = int(abs(exact) + _HALF)
    return magnitude if exact >= 0 else -magnitude


def uf_to_clp(amount_uf: UF | Fraction, clp_per_uf: Decimal) -> CLP:
    """``amount_uf`` in pesos at ``clp_per_uf``: the exact product, rounded half up once.

    ``amount_uf`` may be an exact fraction (a prorated amount) so that nothing is rounded
    before the conversion."""
    rate = _exact(clp_per_uf)
    if rate <= 0:
        raise ValueError(f"the UF value must be positive, got {clp_per_uf} CLP per UF")
    return round_half_up_clp(_exact(amount_uf) * rate)


def uf_for_display(amount_uf: UF | Fraction) -> UF:
    """An amount in UF to 4 decimals, half up, for documents to show; pesos never come from it."""
    exact = _exact(amount_uf)
    ten_thousandths = round_half_up_clp(exact * 10_000)
    return (Decimal(ten_thousandths) / 10_000).quantize(UF_QUANTUM)


@dataclass(frozen=True)
class Totals:
    net: CLP
    iva: CLP
    total: CLP


def iva(net: CLP) -> CLP:
    """19% of the net, rounded half up to whole pesos."""
    return round_half_up_clp(Fraction(net) * IVA_RATE)


def totals(line_amounts_clp: Sequence[CLP]) -> Totals:
    """Net, IVA and total of lines already in whole pesos."""
    net = sum(line_amounts_clp)
    tax = iva(net)
    return Totals(net=net, iva=tax, total=net + tax)


def _exact(amount: Decimal | Fraction) -> Fraction:
    """The exact rational value of an amount; NaN and infinities are no amount of money."""
    if isinstance(amount, Decimal) and not amount.is_finite():
        raise ValueError(f"{amount} is not an amount of money")
    return Fraction(amount)
