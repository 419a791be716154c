"""A cart priced before the customer presses "Activar servicios": what the activation would charge.

The cart is judged by ``activation.decide``, the rules and reason codes of the activation itself.
An accepted cart is priced with the rules billing prices its orders and invoices with
(``tienda.contracts.pricing``): each line is prorated in the billing period of the effective date
(the plan's anchor and cycle), from that day, included, to the period's end, at
unit price × months per period × quantity × days / period days, exact; converted to pesos at the
UF value of the effective date, rounded half up once per line; net, IVA 19 % and total as billing
sums them. Paid online, those are the figures of the order billing opens; at renewal, the same
prorated amounts go on the next renewal invoice, converted at the renewal day's UF value (so the
pesos shown for them are an estimate at today's value). From the next renewal on, every period
carries unit price × months × quantity of each line (the recurring amount).

Without today's UF value the quote says so and gives UF amounts only: nothing is guessed.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from tienda.contracts.pricing.money import CLP, Totals, totals, uf_for_display, uf_to_clp
from tienda.contracts.pricing.periods import ONE_DAY, Cycle, Period, period_containing
from tienda.contracts.pricing.proration import line_amount_uf, remaining_days
from tienda.store.domain.activation import ActivatedItem
from tienda.store.domain.plan import Plan


@dataclass(frozen=True)
class QuotedLine:
    sku: str
    description: str
    quantity: int
    unit_price_uf: Decimal
    months: int
    period: Period
    days: int
    amount_uf: Fraction
    """Exact; shown to 4 decimals (``amount_uf_shown``), pesos never come from the shown figure."""
    amount_clp: CLP | None
    recurring_uf: Decimal
    """What the line adds to every period from the next renewal on: unit price × months × quantity."""

    @property
    def amount_uf_shown(self) -> Decimal:
        return uf_for_display(self.amount_uf)


@dataclass(frozen=True)
class PricedCart:
    effective_date: date
    lines: tuple[QuotedLine, ...]
    clp_per_uf: Decimal | None
    next_renewal: date

    @property
    def totals(self) -> Totals | None:
        """Net, IVA and total in pesos, or None without the UF value."""
        if self.clp_per_uf is None:
            return None
        return totals([line.amount_clp or 0 for line in self.lines])

    @property
    def amount_uf(self) -> Fraction:
        return sum((line.amount_uf for line in self.lines), Fraction(0))

    @property
    def recurring_uf(self) -> Decimal:
        return sum((line.recurring_uf for line in self.lines), Decimal(0))

    @property
    def recurring(self) -> Totals | None:
        """The recurring amount per period in pesos at the quote's UF value (an estimate: each renewal
        converts at its own day's value), or None without the UF value."""
        if self.clp_per_uf is None:
            return None
        return totals([uf_to_clp(line.recurring_uf, self.clp_per_uf) for line in self.lines])


def billing_period(plan: Plan, day: date) -> Period:
    """The period a resource effective on ``day`` is prorated in (the first one before the anchor)."""
    cycle = Cycle(plan.billing_cycle)
    return period_containing(plan.renewal_anchor, cycle, max(day, plan.renewal_anchor))


def price_cart(items: Sequence[ActivatedItem], plan: Plan, effective: date, clp_per_uf: Decimal | None) -> PricedCart:
    """The accepted cart's lines priced as billing will price them."""
    period = billing_period(plan, effective)
    months = Cycle(plan.billing_cycle).months
    days = remaining_days(max(effective, period.start), period)
    lines = []
    for item in items:
        amount = line_amount_uf(item.unit_price_uf, months, item.quantity, days, period.days)
        lines.append(
            QuotedLine(
                sku=item.product.sku,
                description=item.product.description,
                quantity=item.quantity,
                unit_price_uf=item.unit_price_uf,
                months=months,
                period=period,
                days=days,
                amount_uf=amount,
                amount_clp=uf_to_clp(amount, clp_per_uf) if clp_per_uf is not None else None,
                recurring_uf=item.unit_price_uf * months * item.quantity,
            )
        )
    return PricedCart(effective, tuple(lines), clp_per_uf, period.end + ONE_DAY)
