"""Quote = order, at the level of the rules: the store's cart quote (``store.domain.quote``) and
billing's order for the same cart paid online (a charge placed in the account's period, its
prorated line priced at the UF value of its date, net, IVA, total) give the same lines and the
same pesos, for any calendar day, anchor (31st, February, leap day), cycle and cart.

Both are written on ``tienda.contracts.pricing``; this checks that the two services use it the
same way (period of the effective date, days from it, months per period, one rounding per line)."""

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import example, given, settings
from hypothesis import strategies as st

from tienda.billing.domain.accounts import Plan as BillingPlan
from tienda.billing.domain.accounts import open_account
from tienda.billing.domain.charges import Charge, PaymentMode, PlacedCharge
from tienda.billing.domain.documents import Conversion, document_totals, price_all
from tienda.contracts.pricing.periods import Cycle
from tienda.store.domain.activation import ActivatedItem
from tienda.store.domain.catalog import Product
from tienda.store.domain.plan import Plan as StorePlan
from tienda.store.domain.quote import PricedCart, price_cart

Cart = list[tuple[Decimal, int]]

anchors = st.one_of(
    st.dates(date(2024, 1, 1), date(2031, 12, 31)),
    st.sampled_from([date(2027, 1, 31), date(2028, 2, 29), date(2027, 8, 31), date(2028, 1, 30), date(2027, 12, 31)]),
)
prices = st.integers(1, 200_000).map(lambda ten_thousandths: Decimal(ten_thousandths) / 10_000)
carts = st.lists(st.tuples(prices, st.integers(1, 500)), min_size=1, max_size=6)
uf_values = st.integers(2_000_000, 6_000_000).map(lambda cents: Decimal(cents) / 100)


def quoted(anchor: date, cycle: Cycle, effective: date, cart: Cart, clp_per_uf: Decimal) -> PricedCart:
    plan = StorePlan("PYME", "Pyme", cycle.value, anchor, Decimal("2.9000"))
    items = [
        ActivatedItem(Product(f"SKU-{n}", f"Producto {n}", f"res-{n}", price), quantity)
        for n, (price, quantity) in enumerate(cart, start=1)
    ]
    return price_cart(items, plan, effective, clp_per_uf)


def ordered(anchor: date, cycle: Cycle, reached: date, effective: date, cart: Cart, clp_per_uf: Decimal):
    """Billing's order: the account opened when its plan reached billing, renewed up to the cart's
    day, each line placed in the period of the effective date, priced at that date's UF value."""
    account = open_account("acc-1", BillingPlan("PYME", "Pyme", cycle, anchor, Decimal("2.9000")), reached)
    due = account.due_periods(effective)
    if due:
        account = replace(account, current_period=due[-1])
    lines = [
        PlacedCharge(
            Charge("act-1", n, f"SKU-{n}", f"Producto {n}", quantity, price, effective, PaymentMode.ONLINE),
            account.period_of(effective),
            account.months_per_period,
        ).prorated_line()
        for n, (price, quantity) in enumerate(cart, start=1)
    ]
    priced = price_all(lines, Conversion(effective, clp_per_uf))
    return priced, document_totals(priced)


@settings(max_examples=400, deadline=None)
@given(
    anchor=anchors,
    cycle=st.sampled_from(list(Cycle)),
    reached_after=st.integers(-40, 400),
    cart_after=st.integers(0, 800),
    cart=carts,
    clp_per_uf=uf_values,
)
@example(date(2027, 1, 31), Cycle.MONTHLY, 0, 28, [(Decimal("0.5500"), 3)], Decimal("38911.23"))  # 28 Feb 2027
@example(
    date(2028, 2, 29), Cycle.ANNUAL, 0, 365, [(Decimal("2.5000"), 1), (Decimal("0.0500"), 25)], Decimal("39000.01")
)
@example(date(2027, 8, 31), Cycle.MONTHLY, 10, 183, [(Decimal("1.2500"), 2)], Decimal("39500.55"))  # 29 Feb 2028
def test_the_online_quote_equals_the_order_billing_opens(anchor, cycle, reached_after, cart_after, cart, clp_per_uf):
    reached = anchor + timedelta(days=reached_after)
    effective = max(reached, anchor) + timedelta(days=cart_after)
    quote = quoted(anchor, cycle, effective, cart, clp_per_uf)
    priced, totals = ordered(anchor, cycle, reached, effective, cart, clp_per_uf)

    assert [
        (q.sku, q.quantity, q.unit_price_uf, q.months, q.period, q.days, q.amount_uf_shown, q.amount_clp)
        for q in quote.lines
    ] == [
        (
            p.line.sku,
            p.line.quantity,
            p.line.unit_price_uf,
            p.line.months,
            p.line.period,
            p.line.days,
            p.line.amount_uf_shown,
            p.amount_clp,
        )
        for p in priced
    ]
    assert quote.totals == totals


def test_a_quote_without_the_days_uf_value_gives_uf_amounts_only():
    quote = quoted(date(2027, 1, 31), Cycle.MONTHLY, date(2027, 2, 14), [(Decimal("0.5500"), 3)], None)  # type: ignore[arg-type]
    [line] = quote.lines
    assert line.amount_clp is None
    assert quote.totals is None
    assert quote.recurring is None
    # the period of an anchor on 31 January runs to 27 February (28 days); 14 to 27 February is 14 days
    assert (line.days, line.period.days) == (14, 28)
    assert line.amount_uf_shown == Decimal("0.8250")  # 0.55 × 3 × 14 / 28


def test_the_recurring_amount_is_the_whole_period_of_each_line_from_the_next_renewal():
    quote = quoted(
        date(2027, 1, 31),
        Cycle.ANNUAL,
        date(2027, 6, 1),
        [(Decimal("0.5500"), 3), (Decimal("1.2500"), 1)],
        Decimal("40000"),
    )
    assert quote.next_renewal == date(2028, 1, 31)
    assert quote.recurring_uf == Decimal("0.5500") * 12 * 3 + Decimal("1.2500") * 12
    assert quote.recurring is not None
    assert quote.recurring.net == 792_000 + 600_000  # 19.8 UF and 15 UF at 40,000 pesos
