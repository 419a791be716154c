"""Renewal: each account's invoice for the new period, exactly once, with the plan, the add-ons,
the prorated charges paid at renewal and the online orders still unpaid, carried in."""

from datetime import UTC, date, datetime

from tests.billing.conftest import (
    DTE_100,
    USERS,
    WORKERS_10,
    at_noon,
    billing_data_submitted,
    charge_scheduled,
    payloads,
    payment,
    reduction_scheduled,
    uf_published,
)
from tienda.billing.service_layer import renewal
from tienda.billing.service_layer.renewal import renew_due_accounts
from tienda.billing.service_layer.renewal_runs import RenewalProgress
from tienda.contracts.types import PaymentMode

RENEWAL_1, RENEWAL_2 = date(2027, 2, 28), date(2027, 3, 31)


def figures(invoice):
    return [
        (line["kind"], line["sku"], line["quantity"], line["days"], line["amount_clp"]) for line in invoice["lines"]
    ]


async def with_uf_values(billing):
    for day, value in [(date(2027, 2, 10), "39123.45"), (RENEWAL_1, "39200.00"), (RENEWAL_2, "39250.00")]:
        await billing.deliver(uf_published(day, value))


async def test_the_renewal_invoice_charges_the_plan_for_the_new_period_at_the_uf_of_its_date(billing):
    await with_uf_values(billing)
    account_id = await billing.customer()
    [renewed] = await billing.renew(RENEWAL_1)
    [invoice] = payloads(await billing.fresh(), "InvoiceIssued")
    assert (invoice["invoice_id"], invoice["kind"], invoice["dte_type"]) == (renewed.invoice_id, "renewal", 33)
    assert (invoice["period_start"], invoice["period_end"]) == ("2027-02-28", "2027-03-30")
    assert figures(invoice) == [("plan", "PYME", 1, 31, 98_000)]  # 2.5 UF × 39,200
    assert (invoice["net_clp"], invoice["iva_clp"], invoice["total_clp"], invoice["amount_due_clp"]) == (
        98_000,
        18_620,
        116_620,
        116_620,
    )
    [account] = await billing.rows("billing_accounts", account_id=account_id)
    assert (account["current_period_start"], account["next_renewal"]) == (RENEWAL_1, RENEWAL_2)


async def test_a_renewal_invoice_is_issued_once_per_account_and_period_however_often_renewal_runs(billing):
    await with_uf_values(billing)
    account_id = await billing.customer()
    first = await billing.renew(RENEWAL_1)
    again = await billing.renew(RENEWAL_1)
    await billing.tick(datetime(2027, 2, 28, 15, tzinfo=UTC))
    assert (len(first), again) == (1, [])
    assert len(payloads(await billing.fresh(), "InvoiceIssued")) == 1
    assert len(await billing.rows("invoices", account_id=account_id)) == 1


async def test_the_scheduler_renews_on_the_renewal_day_in_chile(billing):
    await with_uf_values(billing)
    account_id = await billing.customer()
    await billing.tick(datetime(2027, 2, 28, 2, 59, tzinfo=UTC))  # 23:59 on the 27th in Santiago (UTC-3)
    assert await billing.rows("invoices", account_id=account_id) == []
    report = await billing.tick(datetime(2027, 2, 28, 3, 0, tzinfo=UTC))  # midnight in Santiago
    assert report.renewals == 1
    assert [i["period_start"] for i in await billing.rows("invoices", account_id=account_id)] == [RENEWAL_1]


async def test_an_online_order_unpaid_at_renewal_is_carried_into_the_renewal_invoice(billing):
    await with_uf_values(billing)
    account_id = await billing.customer()
    await billing.deliver(charge_scheduled(account_id, date(2027, 2, 10), (USERS, 2), mode=PaymentMode.ONLINE))
    [order] = payloads(await billing.fresh(), "OrderCreated")

    [renewed] = await billing.renew(RENEWAL_1)
    [invoice] = payloads(await billing.fresh(), "InvoiceIssued")
    assert figures(invoice) == [
        ("plan", "PYME", 1, 31, 98_000),
        ("addon", "USR-EXTRA", 2, 31, 39_200),  # the users recur from the new period: 1.0 UF × 39,200
        ("carried", "USR-EXTRA", 2, 18, 25_151),  # the order's line, at the order's UF of 10 Feb
    ]
    assert invoice["lines"][2]["order_id"] == order["order_id"]
    assert invoice["lines"][2]["uf_date"] == "2027-02-10"
    assert invoice["carried_orders"] == [order["order_id"]]
    assert (invoice["net_clp"], invoice["iva_clp"], invoice["total_clp"]) == (162_351, 30_847, 193_198)
    [closed] = await billing.rows("orders", account_id=account_id)
    assert (closed["status"], closed["carried_into"]) == ("carried", renewed.invoice_id)
    [charge] = await billing.rows("charges", account_id=account_id)
    assert (charge["status"], charge["invoice_id"]) == ("invoiced", renewed.invoice_id)

    await billing.renew(RENEWAL_2)
    [next_invoice] = payloads(await billing.fresh(), "InvoiceIssued")
    assert [line["kind"] for line in next_invoice["lines"]] == ["plan", "addon"]  # carried once, never again


async def test_a_payment_quoting_a_carried_order_pays_the_invoice_that_carried_it(billing):
    await with_uf_values(billing)
    account_id = await billing.customer()
    await billing.deliver(charge_scheduled(account_id, date(2027, 2, 10), (USERS, 2), mode=PaymentMode.ONLINE))
    [order] = payloads(await billing.fresh(), "OrderCreated")
    [renewed] = await billing.renew(RENEWAL_1)
    await billing.deliver(payment(account_id, order["order_id"], 29_930))
    [recorded] = payloads(await billing.fresh(), "PaymentRecorded")
    assert (recorded["document_id"], recorded["document_kind"], recorded["balance_due_clp"]) == (
        renewed.invoice_id,
        "invoice",
        193_198 - 29_930,
    )


async def test_a_partly_paid_order_is_carried_with_its_payment(billing):
    await with_uf_values(billing)
    account_id = await billing.customer()
    await billing.deliver(charge_scheduled(account_id, date(2027, 2, 10), (USERS, 2), mode=PaymentMode.ONLINE))
    [order] = payloads(await billing.fresh(), "OrderCreated")
    await billing.deliver(payment(account_id, order["order_id"], 10_000))
    await billing.renew(RENEWAL_1)
    [invoice] = payloads(await billing.fresh(), "InvoiceIssued")
    assert (invoice["total_clp"], invoice["paid_clp"], invoice["amount_due_clp"], invoice["status"]) == (
        193_198,
        10_000,
        183_198,
        "partially_paid",
    )


async def test_a_charge_at_renewal_is_prorated_on_the_next_invoice_and_recurs_in_full_after(billing):
    await with_uf_values(billing)
    account_id = await billing.customer()
    await billing.deliver(charge_scheduled(account_id, date(2027, 2, 20), (DTE_100, 1)))
    await billing.renew(RENEWAL_1)
    await billing.renew(RENEWAL_2)
    first, second = payloads(await billing.fresh(), "InvoiceIssued")
    assert figures(first) == [
        ("plan", "PYME", 1, 31, 98_000),
        ("addon", "DTE-100", 1, 31, 13_720),  # 0.35 UF × 39,200
        ("prorated", "DTE-100", 1, 8, 3_920),  # 20 to 27 Feb: 0.35 × 8/28 × 39,200
    ]
    assert figures(second) == [
        ("plan", "PYME", 1, 30, 98_125),  # 2.5 × 39,250
        ("addon", "DTE-100", 1, 30, 13_738),  # 0.35 × 39,250 = 13,737.5 -> 13,738 (half up)
    ]


async def test_a_charge_that_arrives_after_its_periods_renewal_is_billed_for_every_period_it_missed(billing):
    await with_uf_values(billing)
    account_id = await billing.customer()
    await billing.renew(RENEWAL_1)
    await billing.deliver(charge_scheduled(account_id, date(2027, 2, 27), (WORKERS_10, 1)))  # late: period 0
    await billing.fresh()
    await billing.renew(RENEWAL_2)
    [invoice] = payloads(await billing.fresh(), "InvoiceIssued")
    assert [(line["kind"], line["sku"], line["period_start"], line["amount_clp"]) for line in invoice["lines"]] == [
        ("plan", "PYME", "2027-03-31", 98_125),
        ("addon", "TRB-10", "2027-02-28", 9_813),  # the period it missed: 0.25 × 39,250 = 9,812.5 -> 9,813
        ("addon", "TRB-10", "2027-03-31", 9_813),
        ("prorated", "TRB-10", "2027-01-31", 350),  # its last day of period 0: 0.25 × 1/28 × 39,250
    ]


async def test_renewals_missed_for_several_periods_are_issued_one_per_period_oldest_first(billing):
    await with_uf_values(billing)
    account_id = await billing.customer()
    renewed = await billing.renew(RENEWAL_2)
    assert [(r.period_start, r.period_end) for r in renewed] == [
        (RENEWAL_1, date(2027, 3, 30)),
        (RENEWAL_2, date(2027, 4, 29)),
    ]
    assert len(await billing.rows("invoices", account_id=account_id)) == 2


async def test_the_invoice_carries_the_billing_data_accepted_before_it(billing):
    await with_uf_values(billing)
    account_id = await billing.customer()
    await billing.deliver(billing_data_submitted(account_id))
    await billing.deliver(billing_data_submitted(account_id, legal_name="Ferretería y Maderas Rojas SpA"))
    await billing.renew(RENEWAL_1)
    [invoice] = payloads(await billing.fresh(), "InvoiceIssued")
    assert invoice["billing_data"] == {
        "version": 2,
        "legal_name": "Ferretería y Maderas Rojas SpA",
        "rut": "76.086.428-5",
        "business_activity": "Venta al por menor de artículos de ferretería",
        "address": "Av. Libertador Bernardo O'Higgins 1234, oficina 56",
        "comuna": "Santiago",
        "city": "Santiago",
        "billing_email": "facturas@ferreteria-rojas.cl",
    }


async def test_an_invoice_without_billing_data_is_issued_and_operations_are_told(billing):
    await with_uf_values(billing)
    account_id = await billing.customer()
    [renewed] = await billing.renew(RENEWAL_1)
    messages = await billing.fresh()
    [invoice] = payloads(messages, "InvoiceIssued")
    [alert] = payloads(messages, "OperationsAlert")
    assert invoice["billing_data"] is None
    assert (alert["kind"], alert["details"]) == ("billing_data_missing", {"invoice_id": renewed.invoice_id})
    assert account_id in alert["summary"]


async def test_a_reduction_lowers_the_recurring_amount_from_the_next_renewal_without_refunding_the_period(billing):
    await with_uf_values(billing)
    account_id = await billing.customer()
    await billing.deliver(charge_scheduled(account_id, date(2027, 2, 10), (USERS, 3)))
    await billing.deliver(reduction_scheduled(account_id, "USR-EXTRA", 2))
    await billing.renew(RENEWAL_1)
    [invoice] = payloads(await billing.fresh(), "InvoiceIssued")
    assert figures(invoice) == [
        ("plan", "PYME", 1, 31, 98_000),
        ("addon", "USR-EXTRA", 1, 31, 19_600),  # 3 bought, 2 removed from this renewal on
        ("prorated", "USR-EXTRA", 3, 18, 37_800),  # 10 to 27 Feb, all three: 1.5 × 18/28 × 39,200
    ]


async def test_a_reduction_of_units_billing_never_charged_raises_an_alert(billing):
    account_id = await billing.customer()
    await billing.deliver(charge_scheduled(account_id, date(2027, 2, 10), (USERS, 1)))
    await billing.deliver(reduction_scheduled(account_id, "USR-EXTRA", 3))
    [alert] = payloads(await billing.fresh(), "OperationsAlert")
    assert (alert["kind"], alert["details"]["uncovered"]) == (
        "reduction_not_covered",
        [{"sku": "USR-EXTRA", "quantity": 2}],
    )


async def test_a_run_in_many_short_transactions_issues_what_one_long_one_would(billing):
    await with_uf_values(billing)
    customers = [await billing.customer() for _ in range(5)]
    progress, renewed = RenewalProgress(RENEWAL_1), []
    done = await renew_due_accounts(
        billing.unit_of_work, RENEWAL_1, at_noon(RENEWAL_1), progress, chunk=2, budget=0, on_renewed=renewed.extend
    )
    assert done is progress
    assert sorted(r.account_id for r in renewed) == sorted(customers)
    assert (progress.total, progress.done, progress.failed, progress.left, progress.invoices) == (5, 5, 0, 0, 5)
    assert progress.chunks == 3  # 2 + 2 + 1 accounts read at a time
    issued = payloads(await billing.fresh(), "InvoiceIssued")
    assert sorted(i["invoice_id"] for i in issued) == sorted(r.invoice_id for r in renewed)
    assert {figures(i)[0] for i in issued} == {("plan", "PYME", 1, 31, 98_000)}


async def test_an_account_whose_renewal_fails_holds_none_of_the_others_back_and_the_next_run_retries_it(
    billing, monkeypatch
):
    await with_uf_values(billing)
    customers = [await billing.customer() for _ in range(4)]
    broken = customers[1]
    real = renewal.renew_account

    async def renew_account(uow, account_id, on, now, reads=None):
        if account_id == broken:
            raise RuntimeError("the database refused this account")
        return await real(uow, account_id, on, now, reads)

    monkeypatch.setattr(renewal, "renew_account", renew_account)
    progress, renewed = RenewalProgress(RENEWAL_1), []
    await renew_due_accounts(billing.unit_of_work, RENEWAL_1, at_noon(RENEWAL_1), progress, on_renewed=renewed.extend)
    assert sorted(r.account_id for r in renewed) == sorted(set(customers) - {broken})
    assert (progress.done, progress.failed, progress.left, progress.invoices) == (3, 1, 0, 3)

    monkeypatch.setattr(renewal, "renew_account", real)
    [again] = await billing.renew(RENEWAL_1)
    assert again.account_id == broken
    assert len(payloads(await billing.fresh(), "InvoiceIssued")) == 4
