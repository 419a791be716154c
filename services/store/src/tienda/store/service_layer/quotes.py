"""A cart quote: would the store activate this cart now, and what would it cost.

Read-only: it takes no lock and writes nothing. The cart is judged as ``carts.decide_cart`` judges
an ActivationRequested arriving now (the catalog of the effective day, the account's plan,
entitlements and status now) and priced by ``domain/quote.py``. An account whose plan the store
has not received is refused at once as ``unknown_account``: the activation would wait up to
``TIENDA_STORE_UNKNOWN_ACCOUNT_WAIT_SECONDS`` for the plan, but nothing can be priced without it.
The catalog of the day and the day's UF value are kept in memory between quotes (``DayReadings``);
the account is read on every quote, in one statement on a read-only Core connection
(``adapters/quote_reads.py``), not with the activation's locking ``load_account``.
"""

import time
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncConnection

from tienda.contracts.business_day import business_date
from tienda.contracts.messages.activation import CartLine, RejectedLine
from tienda.contracts.pricing.money import Totals, uf_for_display
from tienda.contracts.types import PaymentMode
from tienda.store.adapters import quote_reads
from tienda.store.domain.activation import CartItem, decide, effective_moment
from tienda.store.domain.catalog import Product
from tienda.store.domain.quote import PricedCart, QuotedLine, price_cart
from tienda.store.service_layer.views import rejected_lines


class CartQuoteRequest(BaseModel):
    """The cart as the ERP web would send it in an ActivationRequested."""

    payment_mode: PaymentMode
    lines: list[CartLine] = Field(min_length=1, max_length=50)


class QuoteLine(BaseModel):
    sku: str
    description: str
    quantity: int
    unit_price_uf: Decimal = Field(description="Catalog price per unit per month, UF.")
    months: int = Field(description="Months of price per billing period (12 for annual plans).")
    period_start: date
    period_end: date
    days: int = Field(description="Days charged: from the effective date, included, to the period's end.")
    period_days: int
    amount_uf: Decimal = Field(description="Prorated amount, UF, to 4 decimals for reading (pesos use the exact one).")
    amount_clp: int | None = Field(description="Pesos at the UF value of the effective date; null without it.")
    recurring_uf: Decimal = Field(description="What the line adds to every period from the next renewal on, UF.")


class QuoteTotals(BaseModel):
    net_clp: int
    iva_clp: int
    total_clp: int


class RecurringAmount(BaseModel):
    """What the cart adds to each period from the next renewal on."""

    from_date: date = Field(description="The next renewal: the first period that carries it whole.")
    amount_uf: Decimal
    estimate_clp: QuoteTotals | None = Field(
        description="At today's UF value (each renewal converts at its own day's value); null without it."
    )


class CartQuote(BaseModel):
    """Whether the cart would be activated now and, if so, what it costs."""

    account_id: str
    accepted: bool
    reasons: list[RejectedLine] = Field(description="Why it would be refused: the activation's reason codes.")
    payment_mode: PaymentMode
    effective_date: date | None = Field(description="The day the cart would take effect (and be priced).")
    uf_date: date | None
    clp_per_uf: Decimal | None = Field(description="The UF value of the effective date; null while unknown.")
    uf_value_known: bool
    lines: list[QuoteLine]
    amount_uf: Decimal | None = Field(description="Sum of the prorated amounts, UF, 4 decimals.")
    due_now: QuoteTotals | None = Field(description="Online: the order's net, IVA and total (null without UF).")
    added_to_next_renewal: QuoteTotals | None = Field(
        description="At renewal: added to the next renewal invoice, in pesos at today's UF value (an estimate: "
        "the invoice converts at the renewal day's value); null without UF."
    )
    next_renewal: date | None
    recurring: RecurringAmount | None


@dataclass
class DayReadings:
    """What every quote of a day reads and almost never changes, kept in the worker's memory: the
    catalog in force on a day (kept ``catalog_seconds``, so a catalog version loaded for today shows
    within that time) and the day's UF value (once known it never changes: the first value wins)."""

    catalog_seconds: float = 5.0
    _catalogs: dict[date, tuple[float, dict[str, Product]]] = field(default_factory=dict)
    _uf: dict[date, Decimal] = field(default_factory=dict)

    async def catalog_on(self, connection: AsyncConnection, day: date) -> dict[str, Product]:
        kept = self._catalogs.get(day)
        if kept is None or time.monotonic() - kept[0] > self.catalog_seconds:
            self._catalogs = {day: (time.monotonic(), await quote_reads.catalog_on(connection, day))}
        return self._catalogs[day][1]

    async def uf_value(self, connection: AsyncConnection, day: date) -> Decimal | None:
        if day not in self._uf:
            value = await quote_reads.uf_value(connection, day)
            if value is None:
                return None
            self._uf = {day: value}
        return self._uf[day]


async def quote_cart(
    connection: AsyncConnection, account_id: str, request: CartQuoteRequest, now: datetime, readings: DayReadings
) -> CartQuote:
    account = await quote_reads.account_to_quote(connection, account_id)
    effective = business_date(effective_moment(now, account) if account else now)
    catalog = await readings.catalog_on(connection, effective)
    decision = decide([CartItem(line.sku, line.quantity) for line in request.lines], catalog, account)
    refused = CartQuote(
        account_id=account_id,
        accepted=False,
        reasons=rejected_lines(decision.refusals),
        payment_mode=request.payment_mode,
        effective_date=effective if account else None,
        uf_date=None,
        clp_per_uf=None,
        uf_value_known=False,
        lines=[],
        amount_uf=None,
        due_now=None,
        added_to_next_renewal=None,
        next_renewal=None,
        recurring=None,
    )
    if not decision.accepted or account is None:
        return refused
    clp_per_uf = await readings.uf_value(connection, effective)
    priced = price_cart(decision.activated, account.plan, effective, clp_per_uf)
    return _answer(account_id, request.payment_mode, priced)


def _answer(account_id: str, mode: PaymentMode, priced: PricedCart) -> CartQuote:
    totals = _totals(priced.totals)
    recurring = _totals(priced.recurring)
    return CartQuote(
        account_id=account_id,
        accepted=True,
        reasons=[],
        payment_mode=mode,
        effective_date=priced.effective_date,
        uf_date=priced.effective_date,
        clp_per_uf=priced.clp_per_uf,
        uf_value_known=priced.clp_per_uf is not None,
        lines=[_line(line) for line in priced.lines],
        amount_uf=_shown(priced),
        due_now=totals if mode is PaymentMode.ONLINE else None,
        added_to_next_renewal=totals if mode is PaymentMode.AT_RENEWAL else None,
        next_renewal=priced.next_renewal,
        recurring=RecurringAmount(from_date=priced.next_renewal, amount_uf=priced.recurring_uf, estimate_clp=recurring),
    )


def _shown(priced: PricedCart) -> Decimal:
    return uf_for_display(priced.amount_uf)


def _totals(totals: Totals | None) -> QuoteTotals | None:
    if totals is None:
        return None
    return QuoteTotals(net_clp=totals.net, iva_clp=totals.iva, total_clp=totals.total)


def _line(line: QuotedLine) -> QuoteLine:
    return QuoteLine(
        sku=line.sku,
        description=line.description,
        quantity=line.quantity,
        unit_price_uf=line.unit_price_uf,
        months=line.months,
        period_start=line.period.start,
        period_end=line.period.end,
        days=line.days,
        period_days=line.period.days,
        amount_uf=line.amount_uf_shown,
        amount_clp=line.amount_clp,
        recurring_uf=line.recurring_uf,
    )
