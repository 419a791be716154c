"""Payments matched by reference: full pays, less leaves a balance, more leaves a credit for the
next invoice, an unknown reference is kept for reconciliation, a repeated payment id counts once
(and is raised when its figures differ), a reference typed in lower case pays its document."""

from datetime import date

from tests.billing.conftest import USERS, charge_scheduled, of_type, payloads, payment, uf_published
from tienda.contracts.types import PaymentMode

ORDER_TOTAL = 29_930  # 2 users from 10 Feb: net 25,151 + IVA 4,779


async def ordered(billing):
    """A customer with an online order of 29,930 CLP (2 users from 10 Feb 2027)."""
    await billing.deliver(uf_published(date(2027, 2, 10), "39123.45"))
    account_id = await billing.customer()
    await billing.deliver(charge_scheduled(account_id, date(2027, 2, 10), (USERS, 2), mode=PaymentMode.ONLINE))
    [order] = payloads(await billing.fresh(), "OrderCreated")
    return account_id, order["order_id"]


async def test_an_order_paid_in_full_is_paid_and_gets_its_invoice(billing):
    account_id, order_id = await ordered(billing)
    await billing.deliver(payment(account_id, order_id, ORDER_TOTAL, payment_id="wp-1001"))
    messages = await billing.fresh()
    [recorded] = payloads(messages, "PaymentRecorded")
    assert (recorded["document_id"], recorded["applied_clp"], recorded["credit_clp"]) == (order_id, ORDER_TOTAL, 0)
    assert (recorded["balance_due_clp"], recorded["document_status"]) == (0, "paid")
    [invoice] = payloads(messages, "InvoiceIssued")
    assert (invoice["kind"], invoice["status"], invoice["total_clp"], invoice["amount_due_clp"]) == (
        "order",
        "paid",
        ORDER_TOTAL,
        0,
    )
    assert [(line["kind"], line["amount_clp"]) for line in invoice["lines"]] == [("prorated", 25_151)]
    assert payloads(messages, "PaymentRequested") == []
    [charge] = await billing.rows("charges", account_id=account_id)
    assert (charge["status"], charge["invoice_id"]) == ("invoiced", invoice["invoice_id"])


async def test_a_partial_payment_leaves_the_balance_due_and_the_rest_completes_it(billing):
    account_id, order_id = await ordered(billing)
    await billing.deliver(payment(account_id, order_id, 20_000))
    [recorded] = payloads(await billing.fresh(), "PaymentRecorded")
    assert (recorded["balance_due_clp"], recorded["document_status"]) == (9_930, "partially_paid")
    [row] = await billing.rows("orders", account_id=account_id)
    assert (row["status"], row["paid_clp"]) == ("partially_paid", 20_000)

    await billing.deliver(payment(account_id, order_id, 9_930))
    messages = await billing.fresh()
    assert payloads(messages, "PaymentRecorded")[0]["document_status"] == "paid"
    assert len(payloads(messages, "InvoiceIssued")) == 1


async def test_an_over_payment_pays_the_order_and_leaves_a_credit_for_the_next_invoice(billing):
    account_id, order_id = await ordered(billing)
    await billing.deliver(payment(account_id, order_id, 40_000))
    [recorded] = payloads(await billing.fresh(), "PaymentRecorded")
    assert (recorded["applied_clp"], recorded["credit_clp"], recorded["document_status"]) == (
        ORDER_TOTAL,
        10_070,
        "paid",
    )
    [account] = await billing.rows("billing_accounts", account_id=account_id)
    assert account["credit_clp"] == 10_070

    await billing.deliver(uf_published(date(2027, 2, 28), "39200.00"))
    await billing.renew(date(2027, 2, 28))
    [invoice] = payloads(await billing.fresh(), "InvoiceIssued")
    # plan 98,000 + users 39,200 = 137,200 net; IVA 26,068; total 163,268; the credit pays 10,070 of it.
    assert (invoice["total_clp"], invoice["credit_applied_clp"], invoice["amount_due_clp"]) == (
        163_268,
        10_070,
        153_198,
    )
    [account] = await billing.rows("billing_accounts", account_id=account_id)
    assert account["credit_clp"] == 0


async def test_a_payment_with_an_unknown_reference_is_kept_as_unmatched_and_raised_to_operations(billing):
    account_id, _ = await ordered(billing)
    await billing.deliver(payment(account_id, "ORD-NO-EXISTE", 15_000, payment_id="wp-2002"))
    messages = await billing.fresh()
    [unmatched] = payloads(messages, "PaymentUnmatched")
    [alert] = payloads(messages, "OperationsAlert")
    assert (unmatched["payment_id"], unmatched["reference"], unmatched["amount_clp"]) == (
        "wp-2002",
        "ORD-NO-EXISTE",
        15_000,
    )
    assert (alert["kind"], alert["details"]["payment_id"]) == ("payment_unmatched", "wp-2002")
    [kept] = await billing.rows("payments", payment_id="wp-2002")
    assert (kept["matched"], kept["document_id"]) == (False, None)


async def test_a_reference_of_another_account_does_not_match(billing):
    account_id, order_id = await ordered(billing)
    other = await billing.customer()
    await billing.deliver(payment(other, order_id, ORDER_TOTAL))
    assert len(payloads(await billing.fresh(), "PaymentUnmatched")) == 1
    [row] = await billing.rows("orders", account_id=account_id)
    assert row["paid_clp"] == 0


async def test_a_gateway_payment_delivered_three_times_pays_once(billing):
    account_id, order_id = await ordered(billing)
    for _ in range(3):
        await billing.deliver(payment(account_id, order_id, 20_000, payment_id="wp-3003"))
    messages = await billing.fresh()
    assert len(payloads(messages, "PaymentRecorded")) == 1
    [row] = await billing.rows("orders", account_id=account_id)
    assert (row["paid_clp"], row["status"]) == (20_000, "partially_paid")
    assert len(await billing.rows("payments", account_id=account_id)) == 1


async def test_a_payment_id_repeated_with_other_figures_applies_nothing_and_is_raised_to_operations(billing):
    account_id, order_id = await ordered(billing)
    await billing.deliver(payment(account_id, order_id, 20_000, payment_id="wp-3004"))
    await billing.fresh()
    await billing.deliver(payment(account_id, order_id, 9_930, payment_id="wp-3004"))
    messages = await billing.fresh()
    assert payloads(messages, "PaymentRecorded") == []
    [alert] = payloads(messages, "OperationsAlert")
    assert alert["kind"] == "payment_repeated_differently"
    for told in ("wp-3004", "with 9930 CLP", "recorded with 20000 CLP"):
        assert told in alert["summary"]
    assert (alert["details"]["recorded_amount_clp"], alert["details"]["repeat_amount_clp"]) == (20_000, 9_930)
    [row] = await billing.rows("orders", account_id=account_id)
    assert row["paid_clp"] == 20_000


async def test_a_reference_typed_in_lower_case_or_with_spaces_pays_its_document(billing):
    account_id, order_id = await ordered(billing)
    await billing.deliver(payment(account_id, f"  {order_id.lower()} ", ORDER_TOTAL, payment_id="tr-3005"))
    [recorded] = payloads(await billing.fresh(), "PaymentRecorded")
    assert (recorded["document_id"], recorded["reference"], recorded["document_status"]) == (order_id, order_id, "paid")


async def test_a_lower_case_reference_that_names_no_document_is_kept_as_typed(billing):
    account_id, _ = await ordered(billing)
    await billing.deliver(payment(account_id, " pago marzo ", 1_000, payment_id="tr-3006"))
    [unmatched] = payloads(await billing.fresh(), "PaymentUnmatched")
    assert unmatched["reference"] == " pago marzo "


async def test_an_order_paid_before_its_uf_value_arrived_is_settled_when_it_arrives(billing):
    account_id = await billing.customer()
    await billing.deliver(charge_scheduled(account_id, date(2027, 2, 10), (USERS, 2), mode=PaymentMode.ONLINE))
    [held] = await billing.rows("orders", account_id=account_id)
    await billing.deliver(payment(account_id, held["order_id"], 30_000))
    [recorded] = payloads(await billing.fresh(), "PaymentRecorded")
    assert (recorded["balance_due_clp"], recorded["document_status"]) == (None, "held")

    await billing.deliver(uf_published(date(2027, 2, 10), "39123.45"))
    messages = await billing.fresh()
    assert [m["type"] for m in messages if m["type"] in ("OrderCreated", "InvoiceIssued")] == [
        "OrderCreated",
        "InvoiceIssued",
    ]
    [account] = await billing.rows("billing_accounts", account_id=account_id)
    assert account["credit_clp"] == 30_000 - ORDER_TOTAL


async def test_a_renewal_invoice_paid_in_two_parts_is_paid(billing):
    await billing.deliver(uf_published(date(2027, 2, 28), "39200.00"))
    account_id = await billing.customer()
    [renewed] = await billing.renew(date(2027, 2, 28))
    await billing.deliver(payment(account_id, renewed.invoice_id, 100_000))
    await billing.deliver(payment(account_id, renewed.invoice_id, 16_620))
    first, second = payloads(await billing.fresh(), "PaymentRecorded")
    assert (first["balance_due_clp"], first["document_status"]) == (16_620, "partially_paid")
    assert (second["balance_due_clp"], second["document_status"]) == (0, "paid")
    assert of_type(await billing.fresh(), "InvoiceIssued") == []
