"""Properties over random histories of one account, through the real handlers and database:
every charge lands on exactly one invoice (its order's, or one renewal invoice: at renewal or
carried), whatever is paid, whenever the UF values arrive, however late a charge reaches
billing; and every invoice's lines sum to its net, with IVA and total by the rule."""

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.billing.conftest import DTE_100, USERS, WORKERS_10, charge_scheduled, payment, plan_contracted, uf_published
from tests.samples import account
from tienda.contracts.pricing.periods import Cycle, nth_period
from tienda.contracts.types import PaymentMode

ANCHOR = date(2027, 1, 31)
PERIODS = [nth_period(ANCHOR, Cycle.MONTHLY, n) for n in range(5)]
FINAL_RENEWAL = nth_period(ANCHOR, Cycle.MONTHLY, 5).start
PRODUCTS = [USERS, DTE_100, WORKERS_10]
PAYS = ["nothing", "full", "partial", "over"]


@dataclass(frozen=True)
class Purchase:
    period: int
    day: int
    product: int
    quantity: int
    online: bool
    pays: str
    late: bool


@st.composite
def purchases(draw: st.DrawFn) -> Purchase:
    period = draw(st.integers(0, 2))
    return Purchase(
        period=period,
        day=draw(st.integers(0, PERIODS[period].days - 1)),
        product=draw(st.integers(0, len(PRODUCTS) - 1)),
        quantity=draw(st.integers(1, 5)),
        online=draw(st.booleans()),
        pays=draw(st.sampled_from(PAYS)),
        late=draw(st.booleans()),
    )


def half_up(value: Fraction) -> int:
    return int(value + Fraction(1, 2))


def uf_value(day: date) -> str:
    return f"{39_000 + day.toordinal() % 977}.{day.day:02d}"


async def pay(billing, account_id, activation_id, how):
    [order] = [o for o in await billing.rows("orders", account_id=account_id) if o["activation_id"] == activation_id]
    if how == "nothing" or order["status"] in ("carried", "paid"):
        return
    total = order["total_clp"] or 20_000
    amount = {"full": total, "partial": max(total // 3, 1), "over": total + 1_234}[how]
    await billing.deliver(payment(account_id, order["order_id"], amount))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    history=st.lists(purchases(), min_size=1, max_size=7),
    missing_uf=st.sets(st.sampled_from([p.start for p in PERIODS[1:4]] + [date(2027, 2, 10)])),
)
async def test_every_charge_is_invoiced_exactly_once_across_renewals_carries_and_payments(billing, history, missing_uf):
    account_id = account()
    await billing.deliver(plan_contracted(account_id, on=ANCHOR))
    effective = {PERIODS[p.period].start + timedelta(days=p.day) for p in history}
    all_days = effective | {period.start for period in PERIODS}
    for day in sorted(all_days - missing_uf):
        await billing.deliver(uf_published(day, uf_value(day)))
    late: list[tuple[Purchase, object]] = []
    for index in range(4):
        for purchase in (p for p in history if p.period == index):
            mode = PaymentMode.ONLINE if purchase.online else PaymentMode.AT_RENEWAL
            day = PERIODS[index].start + timedelta(days=purchase.day)
            scheduled = charge_scheduled(
                account_id,
                day,
                (PRODUCTS[purchase.product], purchase.quantity),
                mode=mode,
                activation_id=str(uuid.uuid4()),
            )
            if purchase.late:
                late.append((purchase, scheduled))
                continue
            await billing.deliver(scheduled)
            if purchase.online:
                await pay(billing, account_id, str(scheduled.payload.activation_id), purchase.pays)
        await billing.renew(PERIODS[index + 1].start)
        for purchase, scheduled in late:  # reaches billing after the renewal of the next period
            await billing.deliver(scheduled)
            if purchase.online:
                await pay(billing, account_id, str(scheduled.payload.activation_id), purchase.pays)
        late.clear()
    for day in sorted(all_days & missing_uf):
        await billing.deliver(uf_published(day, uf_value(day)))
    await billing.deliver(uf_published(FINAL_RENEWAL, "39999.99"))
    await billing.renew(FINAL_RENEWAL)

    charges = await billing.rows("charges", account_id=account_id)
    invoices = {i["invoice_id"]: i for i in await billing.rows("invoices", account_id=account_id)}
    lines = [line for line in await billing.rows("invoice_lines") if line["invoice_id"] in invoices]
    charged_on = Counter(
        (line["activation_id"], line["activation_line"]) for line in lines if line["kind"] in ("prorated", "carried")
    )
    assert len(charges) == len(history)
    assert all(charge["status"] == "invoiced" for charge in charges)
    assert charged_on == Counter({(charge["activation_id"], charge["line"]): 1 for charge in charges})
    for charge in charges:
        [line] = [ln for ln in lines if (ln["activation_id"], ln["activation_line"]) == (charge["activation_id"], 1)]
        assert line["invoice_id"] == charge["invoice_id"]
    for invoice_id, invoice in invoices.items():
        amounts = [line["amount_clp"] for line in lines if line["invoice_id"] == invoice_id]
        assert invoice["status"] != "held"
        assert sum(amounts) == invoice["net_clp"]
        assert invoice["iva_clp"] == half_up(Fraction(invoice["net_clp"]) * Fraction(19, 100))
        assert invoice["total_clp"] == invoice["net_clp"] + invoice["iva_clp"]
    renewals = sorted(i["period_start"] for i in invoices.values() if i["kind"] == "renewal")
    assert renewals == sorted(set(renewals))
