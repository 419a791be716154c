"""The worked example of the README: Ferretería Rojas over two periods, peso by peso.

Pyme plan, 2.5 UF a month, anchored on 31 January 2027; a card for autopay.
Period 0 (31 Jan to 27 Feb, 28 days): 2 users online on 10 Feb, left unpaid; a DTE pack at
renewal on 20 Feb. Renewal on 28 Feb: the plan, the add-ons, the DTE prorated, the order
carried; paid with 5,811 CLP too much. Period 1 (28 Feb to 30 Mar, 31 days): 2 payroll
packs online on 15 Mar, paid at once; 1 more user at renewal on 25 Mar. Renewal on 31 Mar:
the plan, the add-ons (3 users now), the user prorated, the credit applied, the card charged.
"""

from datetime import date

from tests.billing.conftest import (
    DTE_100,
    USERS,
    WORKERS_10,
    billing_data_submitted,
    card_subscribed,
    charge_scheduled,
    payloads,
    payment,
    plan_contracted,
    uf_published,
)
from tienda.contracts.types import PaymentMode

ACCOUNT = "acc-ferreteria-rojas"
UF = {
    date(2027, 2, 10): "39123.45",
    date(2027, 2, 28): "39200.00",
    date(2027, 3, 15): "39180.27",
    date(2027, 3, 31): "39250.00",
}


def table(document):
    return [
        (line["kind"], line["sku"], line["quantity"], line["days"], line["amount_clp"]) for line in document["lines"]
    ]


def totals(document):
    return (document["net_clp"], document["iva_clp"], document["total_clp"])


async def test_one_account_over_two_periods_peso_by_peso(billing):
    for day, value in UF.items():
        await billing.deliver(uf_published(day, value))
    await billing.deliver(plan_contracted(ACCOUNT, on=date(2027, 1, 31)), billing_data_submitted(ACCOUNT))
    await billing.deliver(card_subscribed(ACCOUNT))

    # Period 0
    await billing.deliver(charge_scheduled(ACCOUNT, date(2027, 2, 10), (USERS, 2), mode=PaymentMode.ONLINE))
    await billing.deliver(charge_scheduled(ACCOUNT, date(2027, 2, 20), (DTE_100, 1)))
    [order_feb] = payloads(await billing.fresh(), "OrderCreated")
    assert table(order_feb) == [("prorated", "USR-EXTRA", 2, 18, 25_151)]
    assert totals(order_feb) == (25_151, 4_779, 29_930)

    # Renewal on 28 Feb
    [first] = await billing.renew(date(2027, 2, 28))
    messages = await billing.fresh()
    [invoice_feb] = payloads(messages, "InvoiceIssued")
    assert table(invoice_feb) == [
        ("plan", "PYME", 1, 31, 98_000),
        ("addon", "DTE-100", 1, 31, 13_720),
        ("addon", "USR-EXTRA", 2, 31, 39_200),
        ("prorated", "DTE-100", 1, 8, 3_920),
        ("carried", "USR-EXTRA", 2, 18, 25_151),
    ]
    assert totals(invoice_feb) == (179_991, 34_198, 214_189)
    assert payloads(messages, "PaymentRequested")[0]["amount_clp"] == 214_189
    await billing.deliver(payment(ACCOUNT, first.invoice_id, 220_000))
    [over] = payloads(await billing.fresh(), "PaymentRecorded")
    assert (over["applied_clp"], over["credit_clp"], over["document_status"]) == (214_189, 5_811, "paid")

    # Period 1
    await billing.deliver(charge_scheduled(ACCOUNT, date(2027, 3, 15), (WORKERS_10, 2), mode=PaymentMode.ONLINE))
    [order_mar] = payloads(await billing.fresh(), "OrderCreated")
    assert table(order_mar) == [("prorated", "TRB-10", 2, 16, 10_111)]
    assert totals(order_mar) == (10_111, 1_921, 12_032)
    await billing.deliver(payment(ACCOUNT, order_mar["order_id"], 12_032))
    [order_invoice] = payloads(await billing.fresh(), "InvoiceIssued")
    assert (order_invoice["kind"], totals(order_invoice), order_invoice["status"]) == (
        "order",
        (10_111, 1_921, 12_032),
        "paid",
    )
    await billing.deliver(charge_scheduled(ACCOUNT, date(2027, 3, 25), (USERS, 1)))

    # Renewal on 31 Mar
    await billing.renew(date(2027, 3, 31))
    messages = await billing.fresh()
    [invoice_mar] = payloads(messages, "InvoiceIssued")
    assert table(invoice_mar) == [
        ("plan", "PYME", 1, 30, 98_125),
        ("addon", "DTE-100", 1, 30, 13_738),
        ("addon", "TRB-10", 2, 30, 19_625),
        ("addon", "USR-EXTRA", 3, 30, 58_875),
        ("prorated", "USR-EXTRA", 1, 6, 3_798),
    ]
    assert totals(invoice_mar) == (194_161, 36_891, 231_052)
    assert (invoice_mar["credit_applied_clp"], invoice_mar["amount_due_clp"]) == (5_811, 225_241)
    [request] = payloads(messages, "PaymentRequested")
    assert request["amount_clp"] == 225_241
