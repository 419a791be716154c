"""What the store sold: each activation line becomes a charge.

Paid **online**, the charge's prorated amount goes on an order at once; **at renewal**,
it waits for the next renewal invoice. Either way, from the period after its own the
resource is part of the recurring amount (an add-on line for each later period), less
what reductions took away from the renewal they took effect on.
"""

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from enum import Enum

from tienda.billing.domain.documents import Conversion, Line, LineKind
from tienda.contracts.pricing.periods import Period
from tienda.contracts.pricing.proration import remaining_days


class PaymentMode(Enum):
    ONLINE = "online"
    AT_RENEWAL = "at_renewal"


class ChargeStatus(Enum):
    WAITING_FOR_PLAN = "waiting_for_plan"
    """The account's plan has not reached billing: no period to prorate in yet."""
    PENDING_RENEWAL = "pending_renewal"
    """At renewal: the next renewal invoice carries it."""
    ORDERED = "ordered"
    """Online: on an order waiting for payment."""
    INVOICED = "invoiced"
    """On exactly one invoice: a renewal invoice (at renewal, or carried), or its order's invoice."""


@dataclass(frozen=True)
class Charge:
    activation_id: str
    line: int
    sku: str
    description: str
    quantity: int
    unit_price_uf: Decimal
    effective_date: date
    payment_mode: PaymentMode


@dataclass(frozen=True)
class Reduction:
    quantity: int
    effective_from: date
    """The renewal date from which the units are no longer charged."""


@dataclass(frozen=True)
class PlacedCharge:
    """A charge with the period it is prorated in."""

    charge: Charge
    period: Period
    months: int
    order_conversion: Conversion | None = None
    """For a charge on an order: the order's conversion (None while the order is held)."""
    order_id: str | None = None
    recurring_through: date | None = None
    """Start of the last period whose add-on amount was invoiced."""
    reductions: tuple[Reduction, ...] = ()

    @property
    def days(self) -> int:
        return remaining_days(max(self.charge.effective_date, self.period.start), self.period)

    def prorated_line(self) -> Line:
        charge = self.charge
        return Line(
            kind=LineKind.PRORATED,
            description=charge.description,
            sku=charge.sku,
            quantity=charge.quantity,
            unit_price_uf=charge.unit_price_uf,
            months=self.months,
            period=self.period,
            days=self.days,
            activation_id=charge.activation_id,
            activation_line=charge.line,
            order_id=self.order_id,
        )

    def carried_line(self) -> Line:
        """The order's line as a renewal invoice carries it, at the order's conversion when it had one."""
        return replace(self.prorated_line(), kind=LineKind.CARRIED, conversion=self.order_conversion)

    def quantity_in(self, period: Period) -> int:
        """Units still charged for ``period``, after the reductions in force on its first day."""
        removed = sum(r.quantity for r in self.reductions if r.effective_from <= period.start)
        return max(self.charge.quantity - removed, 0)

    def remaining_quantity(self) -> int:
        """Units not yet taken away by any reduction."""
        return max(self.charge.quantity - sum(r.quantity for r in self.reductions), 0)


@dataclass(frozen=True)
class Allocation:
    key: tuple[str, int]
    """The charge (activation id, line) the units are taken from."""
    quantity: int


def allocate_reduction(quantity: int, available: list[tuple[tuple[str, int], int]]) -> tuple[list[Allocation], int]:
    """Take ``quantity`` units from the charges that still have units, newest first (``available``
    is oldest first). Returns the allocations and the units no bought resource covered."""
    allocations, missing = [], quantity
    for key, units in reversed(available):
        if missing == 0:
            break
        taken = min(units, missing)
        if taken:
            allocations.append(Allocation(key, taken))
            missing -= taken
    return allocations, missing
