"""Money: prices in UF, invoices in whole Chilean pesos, IVA on the net.

Rounding happens once per amount, in CLP, and nowhere else. UF amounts (catalog prices
of 4 decimals, and prorated amounts) keep their full precision; each line is converted
to CLP by multiplying its UF amount by the UF value (CLP per UF) exactly and rounding
that product once to whole pesos, half up (``ROUND_HALF_UP``: .5 goes away from zero).
The net is the sum of the rounded lines; IVA is 19% of the net, rounded to whole pesos
half up in the same way; the total is the net plus the IVA.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import TypeAlias

UF: TypeAlias = Decimal
"""An amount in Unidades de Fomento; catalog prices carry 4 decimals."""

CLP: TypeAlias = int
"""An amount in Chilean pesos, which have no minor unit."""

UF_QUANTUM = Decimal("0.0001")
IVA_RATE = Decimal("0.19")
_WHOLE_PESO = Decimal(1)


def round_half_up_clp(amount: Decimal) -> CLP:
    """``amount`` pesos rounded to whole pesos, half up."""
    _require_finite(amount)
    with localcontext() as context:
        context.prec = max(context.prec, amount.adjusted() + 2)
        return int(amount.quantize(_WHOLE_PESO, rounding=ROUND_HALF_UP))


def uf_to_clp(amount_uf: UF, clp_per_uf: Decimal) -> CLP:
    """``amount_uf`` in pesos at ``clp_per_uf``: the exact product, rounded half up once."""
    _require_finite(amount_uf)
    _require_finite(clp_per_uf)
    if clp_per_uf <= 0:
        raise ValueError(f"the UF value must be positive, got {clp_per_uf} CLP per UF")
    with localcontext() as context:
        context.prec = max(context.prec, _digits(amount_uf) + _digits(clp_per_uf))
        product = amount_uf * clp_per_uf
    return round_half_up_clp(product)


@dataclass(frozen=True)
class Totals:
    net: CLP
    iva: CLP
    total: CLP


def iva(net: CLP) -> CLP:
    """19% of the net, rounded half up to whole pesos."""
    return round_half_up_clp(Decimal(net) * IVA_RATE)


def totals(line_amounts_clp: Sequence[CLP]) -> Totals:
    """Net, IVA and total of lines already in whole pesos."""
    net = sum(line_amounts_clp)
    tax = iva(net)
    return Totals(net=net, iva=tax, total=net + tax)


def _digits(amount: Decimal) -> int:
    """The significant digits of ``amount``: a product of two amounts needs at most the sum."""
    return len(amount.as_tuple().digits)


def _require_finite(amount: Decimal) -> None:
    if not amount.is_finite():
        raise ValueError(f"{amount} is not an amount of money")
