"""The renewal invoice of one account and period: what it charges.

On the first day of a period, the account's renewal invoice carries, in this order:

1. the plan for the new period;
2. the add-ons: every resource activated in an earlier period, for the whole new period
   (grouped by SKU and price), plus any earlier period the resource was not yet billed
   for (a charge that reached billing after that period's renewal);
3. the prorated charges paid at renewal, from their activation day to the end of their period;
4. the online orders still unpaid, carried in line by line (each order is closed as carried).

Every charge's prorated amount lands on exactly one invoice: its order's invoice when
the order is paid, or the one renewal invoice that carries it.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from tienda.billing.domain.accounts import BillingAccount
from tienda.billing.domain.charges import PlacedCharge
from tienda.billing.domain.documents import Line, LineKind
from tienda.contracts.pricing.periods import Period


@dataclass(frozen=True)
class CarriedOrder:
    order_id: str
    charges: tuple[PlacedCharge, ...]
    paid_clp: int


@dataclass(frozen=True)
class RenewalInvoice:
    period: Period
    lines: list[Line]
    prorated: list[PlacedCharge]
    carried: list[CarriedOrder]
    recurring: list[PlacedCharge]
    """Charges whose add-on amount this invoice bills through ``period``."""

    @property
    def paid_by_carried_orders(self) -> int:
        return sum(order.paid_clp for order in self.carried)


def plan_line(account: BillingAccount, period: Period) -> Line:
    plan = account.plan
    return Line(
        kind=LineKind.PLAN,
        description=f"Plan {plan.name}",
        sku=plan.code,
        quantity=1,
        unit_price_uf=plan.price_uf,
        months=1,
        period=period,
        days=period.days,
    )


def addon_periods(charge: PlacedCharge, renewals: Sequence[Period]) -> list[Period]:
    """The renewal periods after the charge's own whose add-on amount is not billed yet."""
    return [
        period
        for period in renewals
        if period.start > charge.period.end
        and (charge.recurring_through is None or period.start > charge.recurring_through)
    ]


def addon_lines(charges: Sequence[PlacedCharge], renewals: Sequence[Period]) -> list[Line]:
    """One line per SKU, price and period with the units still charged, periods oldest first."""
    grouped: dict[tuple[Period, str, str, Decimal, int], int] = {}
    for placed in charges:
        for period in addon_periods(placed, renewals):
            quantity = placed.quantity_in(period)
            if quantity:
                charge = placed.charge
                key = (period, charge.sku, charge.description, charge.unit_price_uf, placed.months)
                grouped[key] = grouped.get(key, 0) + quantity
    return [
        Line(
            kind=LineKind.ADDON,
            description=description,
            sku=sku,
            quantity=quantity,
            unit_price_uf=price,
            months=months,
            period=period,
            days=period.days,
        )
        for (period, sku, description, price, months), quantity in sorted(
            grouped.items(), key=lambda item: (item[0][0].start, item[0][1], item[0][3])
        )
    ]


def renewal_invoice(
    account: BillingAccount,
    period: Period,
    *,
    pending: Sequence[PlacedCharge],
    recurring: Sequence[PlacedCharge],
    issued_renewals: Sequence[Period],
    unpaid_orders: Sequence[CarriedOrder],
) -> RenewalInvoice:
    """The invoice of ``period``. ``pending``: charges at renewal not invoiced yet; ``recurring``:
    charges of earlier periods; ``issued_renewals``: periods already invoiced by renewal;
    ``unpaid_orders``: online orders dated before the period."""
    renewals = sorted({*issued_renewals, period}, key=lambda p: p.start)
    before = [charge for charge in pending if charge.period.start < period.start]
    carried = [order for order in unpaid_orders if order.charges]
    lines = [
        plan_line(account, period),
        *addon_lines(recurring, renewals),
        *(charge.prorated_line() for charge in before),
        *(charge.carried_line() for order in carried for charge in order.charges),
    ]
    billed_recurring = [charge for charge in recurring if addon_periods(charge, renewals)]
    return RenewalInvoice(period, lines, before, carried, billed_recurring)
