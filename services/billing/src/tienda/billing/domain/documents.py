"""Orders and invoices: their lines, and the one way pesos are computed from them.

A line charges ``quantity`` units at ``unit_price_uf`` (the catalog price per unit per
month, or the plan's price per period) for ``months`` months of price per period, over
``days`` of a period of ``period_days`` days:

    amount in UF   = unit price × months × quantity × days / period days   (exact)
    amount in CLP  = amount in UF × pesos per UF of the document's date, rounded half up once

The net is the sum of the lines in pesos, IVA 19 % of the net rounded half up, and the
total the net plus IVA (``tienda.contracts.pricing.money``). A line carried from an online
order keeps the conversion of the order it came from, so its pesos do not change.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum
from fractions import Fraction
from functools import lru_cache

from tienda.contracts.pricing.money import CLP, UF, Totals, totals, uf_for_display, uf_to_clp
from tienda.contracts.pricing.periods import Period
from tienda.contracts.pricing.proration import line_amount_uf


class LineKind(Enum):
    PLAN = "plan"
    ADDON = "addon"
    PRORATED = "prorated"
    CARRIED = "carried"


class DocumentStatus(Enum):
    HELD = "held"
    PENDING = "pending"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    CARRIED = "carried"

    @property
    def unpaid(self) -> bool:
        return self in {DocumentStatus.HELD, DocumentStatus.PENDING, DocumentStatus.PARTIALLY_PAID}


@dataclass(frozen=True)
class Conversion:
    """The UF value a document converts at: the value of its date."""

    uf_date: date
    clp_per_uf: Decimal


@dataclass(frozen=True)
class Line:
    kind: LineKind
    description: str
    sku: str | None
    quantity: int
    unit_price_uf: UF
    months: int
    period: Period
    days: int
    activation_id: str | None = None
    activation_line: int | None = None
    order_id: str | None = None
    conversion: Conversion | None = None
    """Set when an earlier document fixed the line's pesos (an order's line carried into an invoice)."""

    def __post_init__(self) -> None:
        if not 1 <= self.days <= self.period.days:
            raise ValueError(f"a line charges 1 to {self.period.days} days of {self.period}, not {self.days}")
        if self.quantity < 1 or self.months < 1 or self.unit_price_uf < 0:
            raise ValueError(f"a line needs a positive quantity and months and a price >= 0: {self}")

    @property
    def amount_uf(self) -> Fraction:
        """The exact amount in UF: never rounded."""
        return _amount_uf(self.unit_price_uf, self.months, self.quantity, self.days, self.period.days)

    @property
    def amount_uf_shown(self) -> UF:
        return _shown(self.amount_uf)


# The money rule's functions are pure and a renewal day's lines repeat (one plan, a few add-ons
# and quantities, one period, one UF value): their results are remembered, the rule unchanged.
_amount_uf = lru_cache(maxsize=4096)(line_amount_uf)
_shown = lru_cache(maxsize=4096)(uf_for_display)
_in_clp = lru_cache(maxsize=4096)(uf_to_clp)


@dataclass(frozen=True)
class PricedLine:
    line: Line
    conversion: Conversion
    amount_clp: CLP


def price(line: Line, document_conversion: Conversion) -> PricedLine:
    """The line in pesos: at its own fixed conversion if it has one, else at the document's."""
    conversion = line.conversion or document_conversion
    return PricedLine(line, conversion, _in_clp(line.amount_uf, conversion.clp_per_uf))


def price_all(lines: Sequence[Line], document_conversion: Conversion) -> list[PricedLine]:
    return [price(line, document_conversion) for line in lines]


def document_totals(lines: Sequence[PricedLine]) -> Totals:
    """Net = the lines' pesos summed; IVA and total by the rule in ``money``."""
    return totals([line.amount_clp for line in lines])
