"""Billing accounts and renewal invoices as plain rules: periods due, plan changes, what an invoice carries."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

from tienda.billing.domain.accounts import Plan, change_plan, open_account
from tienda.billing.domain.charges import Charge, PaymentMode, PlacedCharge, Reduction, allocate_reduction
from tienda.billing.domain.documents import LineKind
from tienda.billing.domain.renewal import CarriedOrder, renewal_invoice
from tienda.contracts.pricing.periods import Cycle, Period, nth_period

PYME = Plan("PYME", "Pyme", Cycle.MONTHLY, date(2027, 1, 31), Decimal("2.5000"))


def placed(effective: date, quantity: int = 2, mode: PaymentMode = PaymentMode.AT_RENEWAL, **more) -> PlacedCharge:
    account = open_account("acc-ferreteria-rojas", PYME, date(2027, 2, 1))
    charge = Charge("act-1", 1, "USR-EXTRA", "Usuario adicional", quantity, Decimal("0.5000"), effective, mode)
    return PlacedCharge(charge, account.period_of(effective), 1, **more)


def test_an_account_opens_in_the_period_of_the_day_its_plan_reached_billing():
    account = open_account("acc-ferreteria-rojas", PYME, date(2027, 3, 5))
    assert account.current_period == Period(date(2027, 2, 28), date(2027, 3, 30))
    assert account.next_period == Period(date(2027, 3, 31), date(2027, 4, 29))


def test_an_account_contracted_before_its_anchor_opens_in_its_first_period():
    account = open_account("acc-ferreteria-rojas", PYME, date(2027, 1, 20))
    assert account.current_period == nth_period(PYME.anchor, Cycle.MONTHLY, 0)


def test_the_periods_due_are_every_renewal_up_to_the_day_oldest_first():
    account = open_account("acc-ferreteria-rojas", PYME, date(2027, 2, 1))
    assert [p.start for p in account.due_periods(date(2027, 2, 27))] == []
    assert [p.start for p in account.due_periods(date(2027, 4, 30))] == [
        date(2027, 2, 28),
        date(2027, 3, 31),
        date(2027, 4, 30),
    ]


def test_a_change_to_an_annual_plan_renews_on_the_first_day_of_the_new_anchors_period():
    account = open_account("acc-ferreteria-rojas", PYME, date(2027, 2, 1))
    annual = replace(PYME, cycle=Cycle.ANNUAL, anchor=date(2027, 2, 15), price_uf=Decimal("27.0000"))
    changed = change_plan(account, annual)
    assert changed.next_period == Period(date(2027, 2, 15), date(2028, 2, 14))
    renewed = replace(changed, current_period=changed.next_period)
    assert renewed.next_period == Period(date(2028, 2, 15), date(2029, 2, 14))


def test_a_renewal_invoice_charges_plan_addons_prorated_and_carried_lines_in_that_order():
    account = open_account("acc-ferreteria-rojas", PYME, date(2027, 2, 1))
    new_period = account.next_period
    at_renewal = placed(date(2027, 2, 20))
    ordered = placed(date(2027, 2, 10), mode=PaymentMode.ONLINE, order_id="ORD-1")
    invoice = renewal_invoice(
        account,
        new_period,
        pending=[at_renewal],
        recurring=[at_renewal, ordered],
        issued_renewals=[],
        unpaid_orders=[CarriedOrder("ORD-1", (ordered,), 5_000)],
    )
    assert [(line.kind, line.quantity, line.days) for line in invoice.lines] == [
        (LineKind.PLAN, 1, 31),
        (LineKind.ADDON, 4, 31),  # both purchases of users, grouped
        (LineKind.PRORATED, 2, 8),
        (LineKind.CARRIED, 2, 18),
    ]
    assert invoice.paid_by_carried_orders == 5_000


def test_a_charge_of_the_new_period_waits_for_the_renewal_after():
    account = open_account("acc-ferreteria-rojas", PYME, date(2027, 2, 1))
    same_day = placed(date(2027, 2, 28))
    invoice = renewal_invoice(
        account, account.next_period, pending=[same_day], recurring=[], issued_renewals=[], unpaid_orders=[]
    )
    assert [line.kind for line in invoice.lines] == [LineKind.PLAN]
    assert invoice.prorated == []


def test_reductions_count_from_the_renewal_they_take_effect_on():
    charge = placed(date(2027, 2, 10), quantity=3, reductions=(Reduction(2, date(2027, 3, 31)),))
    assert charge.quantity_in(Period(date(2027, 2, 28), date(2027, 3, 30))) == 3
    assert charge.quantity_in(Period(date(2027, 3, 31), date(2027, 4, 29))) == 1


def test_a_reduction_takes_the_newest_units_first_and_says_what_it_could_not_cover():
    allocations, missing = allocate_reduction(4, [(("old", 1), 2), (("new", 1), 1)])
    assert [(a.key[0], a.quantity) for a in allocations] == [("new", 1), ("old", 2)]
    assert missing == 1
