"""GET /accounts/{id}/invoices/upcoming: the next renewal invoice as it would be issued, read the
day before the renewal, equals the InvoiceIssued of the renewal day line by line, when the renewal
day's UF value is the one used. Real handlers and database, billing's HTTP surface."""

import random
from datetime import date, timedelta
from typing import Any

import pytest

from tests.billing.conftest import (
    DTE_100,
    USERS,
    WORKERS_10,
    Billing,
    at_noon,
    billing_data_submitted,
    card_subscribed,
    charge_scheduled,
    payloads,
    payment,
    plan_contracted,
    reduction_scheduled,
    uf_published,
)
from tests.billing.test_worked_example import UF
from tests.samples import account
from tienda.billing.service_layer.renewal import renew_account
from tienda.contracts.messages.plans import BillingCycle
from tienda.contracts.types import PaymentMode
from tienda.messaging.http import TokenRing

TOKENS = TokenRing({"erp-web": ["*"]})
COMPARED = ("invoice_id", "issue_date", "period_start", "period_end", "net_clp", "iva_clp", "total_clp")
COMPARED += ("credit_applied_clp", "paid_clp", "amount_due_clp", "carried_orders", "lines")


@pytest.fixture
async def http(billing):
    async with billing.h.http(TOKENS) as client:
        yield client


async def upcoming(http, account_id: str) -> dict[str, Any]:
    response = await http.get(f"/accounts/{account_id}/invoices/upcoming", headers={"Authorization": "Bearer erp-web"})
    assert response.status_code == 200, response.text
    return response.json()


async def issued_on(billing: Billing, account_id: str, day: date) -> dict[str, Any]:
    """The renewal invoice issued by renewing the account (only) on ``day``."""
    async with billing.unit_of_work() as uow:
        [renewed] = await renew_account(uow, account_id, day, at_noon(day))
        await uow.commit()
    issued = {invoice["invoice_id"]: invoice for invoice in payloads(await billing.fresh(), "InvoiceIssued")}
    return issued[renewed.invoice_id]


def same(preview: dict[str, Any], invoice: dict[str, Any]) -> None:
    assert preview["uf_estimate"] is False
    assert {key: preview[key] for key in COMPARED} == {key: invoice[key] for key in COMPARED}


async def test_the_worked_examples_upcoming_invoices_are_the_invoices_issued(billing, http):
    account_id = "acc-ferreteria-rojas"
    for day, value in UF.items():
        await billing.deliver(uf_published(day, value))
    await billing.deliver(plan_contracted(account_id, on=date(2027, 1, 31)), billing_data_submitted(account_id))
    await billing.deliver(card_subscribed(account_id))
    await billing.deliver(charge_scheduled(account_id, date(2027, 2, 10), (USERS, 2), mode=PaymentMode.ONLINE))
    await billing.deliver(charge_scheduled(account_id, date(2027, 2, 20), (DTE_100, 1)))
    await billing.fresh()

    february = await upcoming(http, account_id)
    assert (february["issue_date"], february["total_clp"]) == ("2027-02-28", 214_189)
    issued = await issued_on(billing, account_id, date(2027, 2, 28))
    same(february, issued)

    await billing.deliver(payment(account_id, issued["invoice_id"], 220_000))
    await billing.deliver(charge_scheduled(account_id, date(2027, 3, 15), (WORKERS_10, 2), mode=PaymentMode.ONLINE))
    [order] = payloads(await billing.fresh(), "OrderCreated")
    await billing.deliver(payment(account_id, order["order_id"], 12_032))
    await billing.deliver(charge_scheduled(account_id, date(2027, 3, 25), (USERS, 1)))
    await billing.fresh()

    march = await upcoming(http, account_id)
    assert (march["total_clp"], march["credit_applied_clp"], march["amount_due_clp"]) == (231_052, 5_811, 225_241)
    issued = await issued_on(billing, account_id, date(2027, 3, 31))
    same(march, issued)


async def test_generated_accounts_upcoming_invoices_are_the_invoices_issued(billing, http):
    """Accounts on monthly and annual plans anchored on awkward days, with carts paid online (some
    paid, some left to be carried) and at renewal, and reductions, over two renewals each."""
    rng = random.Random(20)
    anchors = [date(2027, 1, 31), date(2028, 2, 29), date(2027, 3, 30), date(2027, 12, 31), date(2027, 5, 15)]
    accounts = []
    for anchor in anchors:
        cycle = rng.choice([BillingCycle.MONTHLY, BillingCycle.MONTHLY, BillingCycle.ANNUAL])
        account_id = account()
        await billing.deliver(plan_contracted(account_id, anchor=anchor, cycle=cycle, on=anchor))
        accounts.append((account_id, cycle))
    days_known = set()
    for round_ in range(2):
        for account_id, cycle in accounts:
            renewal = await next_renewal(http, account_id)
            start = renewal - timedelta(days=28 if cycle is BillingCycle.MONTHLY else 300)
            for day in sorted({start + timedelta(days=rng.randrange(0, 27)) for _ in range(3)}):
                if day not in days_known:
                    await billing.deliver(uf_published(day, f"{39000 + day.toordinal() % 997}.{day.day:02d}"))
                    days_known.add(day)
                mode = rng.choice(list(PaymentMode))
                lines = rng.sample([(USERS, rng.randint(1, 5)), (DTE_100, rng.randint(1, 3)), (WORKERS_10, 2)], 2)
                await billing.deliver(charge_scheduled(account_id, day, *lines, mode=mode))
                orders = payloads(await billing.fresh(), "OrderCreated")
                if orders and rng.random() < 0.5:
                    await billing.deliver(payment(account_id, orders[0]["order_id"], orders[0]["total_clp"]))
            if round_ == 1:
                await billing.deliver(reduction_scheduled(account_id, "USR-EXTRA", 1, requested_on=start))
            if renewal not in days_known:
                await billing.deliver(uf_published(renewal, f"{39500 + renewal.day}.25"))
                days_known.add(renewal)
            await billing.fresh()
            preview = await upcoming(http, account_id)
            same(preview, await issued_on(billing, account_id, renewal))


async def next_renewal(http, account_id: str) -> date:
    return date.fromisoformat((await upcoming(http, account_id))["issue_date"])


async def test_before_the_renewal_days_uf_value_the_latest_known_prices_it_as_an_estimate(billing, http):
    account_id = await billing.customer()
    await billing.deliver(uf_published(date(2027, 2, 20), "39111.11"))
    await billing.deliver(charge_scheduled(account_id, date(2027, 2, 20), (USERS, 2)))
    preview = await upcoming(http, account_id)
    assert (preview["uf_estimate"], preview["uf_date"], preview["clp_per_uf"]) == (True, "2027-02-20", "39111.11")
    assert [line["kind"] for line in preview["lines"]] == ["plan", "addon", "prorated"]
    assert {line["uf_date"] for line in preview["lines"]} == {"2027-02-20"}
    await billing.deliver(uf_published(date(2027, 2, 28), "39200.00"))
    exact = await upcoming(http, account_id)
    assert (exact["uf_estimate"], exact["uf_date"]) == (False, "2027-02-28")


async def test_without_any_uf_value_the_upcoming_invoice_gives_its_period_and_no_pesos(billing, http):
    account_id = await billing.customer()
    preview = await upcoming(http, account_id)
    assert (preview["period_start"], preview["period_end"]) == ("2027-02-28", "2027-03-30")
    assert (preview["uf_date"], preview["total_clp"], preview["lines"]) == (None, None, [])


async def test_reading_the_upcoming_invoice_writes_nothing(billing, http):
    account_id = await billing.customer()
    await billing.deliver(uf_published(date(2027, 2, 28), "39200.00"))
    await billing.deliver(charge_scheduled(account_id, date(2027, 2, 10), (USERS, 2), mode=PaymentMode.ONLINE))
    await billing.fresh()
    tables = ("invoices", "invoice_lines", "orders", "charges", "billing_accounts", "outbox")
    before = {table: await billing.rows(table) for table in tables}
    await upcoming(http, account_id)
    assert {table: await billing.rows(table) for table in tables} == before


async def test_an_account_without_a_plan_has_no_upcoming_invoice(http):
    response = await http.get("/accounts/acc-sin-plan/invoices/upcoming", headers={"Authorization": "Bearer erp-web"})
    assert response.status_code == 404
    assert "no plan for account acc-sin-plan" in response.json()["detail"]
