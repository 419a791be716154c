"""What the customer and the operator read: payment history, pending orders, invoices, balance;
and the operator's renewal for a date (HTTP endpoint and command)."""

import os
import subprocess
import sys
from datetime import date

import pytest

from tests.billing.conftest import USERS, charge_scheduled, payloads, payment, uf_published
from tests.waiting import eventually
from tienda.contracts.types import PaymentMode
from tienda.messaging.http import TokenRing

TOKENS = TokenRing({"ops-token": ["*"], "erp-ferreteria": ["acc-ferreteria-rojas"]})
OPS = {"Authorization": "Bearer ops-token"}


@pytest.fixture
async def http(billing):
    async with billing.h.http(TOKENS, headers=OPS) as client:
        yield client


async def test_the_payment_history_says_what_was_paid_how_much_how_by_whom_and_when(billing, http):
    await billing.deliver(uf_published(date(2027, 2, 10), "39123.45"))
    account_id = await billing.customer()
    await billing.deliver(charge_scheduled(account_id, date(2027, 2, 10), (USERS, 2), mode=PaymentMode.ONLINE))
    [order] = (await http.get(f"/accounts/{account_id}/orders/pending")).json()["orders"]
    await billing.deliver(payment(account_id, order["order_id"], 29_930, payment_id="wp-5005"))

    [paid] = (await http.get(f"/accounts/{account_id}/payments")).json()["payments"]
    assert {key: paid[key] for key in ("payment_id", "reference", "amount_clp", "method", "paid_by", "paid_at")} == {
        "payment_id": "wp-5005",
        "reference": order["order_id"],
        "amount_clp": 29_930,
        "method": "webpay",
        "paid_by": "Camila Rojas",
        "paid_at": "2027-03-02T15:30:00+00:00",
    }
    assert (await http.get(f"/accounts/{account_id}/orders/pending")).json()["orders"] == []
    [paid_order] = (await http.get(f"/accounts/{account_id}/orders")).json()["orders"]
    assert (paid_order["status"], paid_order["invoice_id"]) == ("paid", f"INV-{order['order_id']}")


async def test_invoices_and_balance_show_the_lines_and_what_is_due(billing, http):
    await billing.deliver(uf_published(date(2027, 2, 28), "39200.00"))
    account_id = await billing.customer()
    [renewed] = await billing.renew(date(2027, 2, 28))
    await billing.deliver(payment(account_id, renewed.invoice_id, 16_620))

    [invoice] = (await http.get(f"/accounts/{account_id}/invoices")).json()["invoices"]
    assert (invoice["invoice_id"], invoice["total_clp"], invoice["amount_due_clp"], invoice["status"]) == (
        renewed.invoice_id,
        116_620,
        100_000,
        "partially_paid",
    )
    assert [(line["kind"], line["amount_clp"], line["clp_per_uf"]) for line in invoice["lines"]] == [
        ("plan", 98_000, "39200.00")
    ]
    balance = (await http.get(f"/accounts/{account_id}/balance")).json()
    assert (balance["balance_due_clp"], balance["credit_clp"], balance["next_renewal"]) == (
        100_000,
        0,
        "2027-03-31",
    )


async def test_the_charges_endpoint_keeps_one_row_per_activation_line(billing, http):
    account_id = await billing.customer()
    scheduled = charge_scheduled(account_id, date(2027, 2, 10), (USERS, 2))
    await billing.deliver(scheduled)
    [charge] = (await http.get(f"/accounts/{account_id}/charges")).json()["charges"]
    assert (charge["activation_id"], charge["line"], charge["status"]) == (
        str(scheduled.payload.activation_id),
        1,
        "pending_renewal",
    )


async def test_an_account_limited_token_reads_only_its_account(http):
    limited = {"Authorization": "Bearer erp-ferreteria"}
    assert (await http.get("/accounts/acc-ferreteria-rojas/balance", headers=limited)).status_code == 200
    assert (await http.get("/accounts/acc-panaderia-soto/balance", headers=limited)).status_code == 403


async def finished(http, day):
    async def probe():
        answer = (await http.get(f"/admin/renewals/{day}")).json()
        return answer if answer["state"] == "finished" else None

    return await eventually(probe, timeout=10, what=f"the renewal run of {day} finished")


async def test_the_operator_starts_renewal_of_a_date_through_the_admin_endpoint_and_follows_it(billing, http):
    await billing.deliver(uf_published(date(2027, 2, 28), "39200.00"))
    account_id = await billing.customer()
    response = await http.post("/admin/renewals", json={"date": "2027-02-28", "early": True})
    assert response.status_code == 202
    assert (response.json()["date"], response.json()["accounts_total"]) == ("2027-02-28", 1)
    run = await finished(http, "2027-02-28")
    assert (run["accounts_total"], run["accounts_done"], run["accounts_left"], run["invoices"]) == (1, 1, 0, 1)
    [issued] = (await http.get(f"/accounts/{account_id}/invoices")).json()["invoices"]
    assert (issued["kind"], issued["period_start"], issued["status"]) == ("renewal", "2027-02-28", "pending")
    assert (await http.post("/admin/renewals", json={"date": "2027-02-28", "early": True})).status_code == 202
    again = await finished(http, "2027-02-28")
    assert (again["accounts_total"], again["invoices"]) == (0, 0)
    assert len(payloads(await billing.fresh(), "InvoiceIssued")) == 1


async def test_a_renewal_date_after_today_is_refused_unless_asked_for_early(billing, http):
    account_id = await billing.customer()
    response = await http.post("/admin/renewals", json={"date": "2027-02-28"})
    assert response.status_code == 422
    assert response.json()["detail"].startswith("renewal date 2027-02-28 is after today (")
    assert '"early": true' in response.json()["detail"]
    assert (await http.get("/admin/renewals/2027-02-28")).status_code == 404
    assert (await http.get(f"/accounts/{account_id}/invoices")).json()["invoices"] == []


async def test_a_date_never_renewed_in_this_worker_is_not_found(http):
    answer = await http.get("/admin/renewals/2027-02-28")
    assert answer.status_code == 404
    assert "POST /admin/renewals" in answer.json()["detail"]


async def test_the_admin_endpoint_needs_a_token_for_every_account_and_a_date(http):
    limited = {"Authorization": "Bearer erp-ferreteria"}
    assert (
        await http.post("/admin/renewals", json={"date": "2027-02-28", "early": True}, headers={"Authorization": ""})
    ).status_code == 401
    assert (
        await http.post("/admin/renewals", json={"date": "2027-02-28", "early": True}, headers=limited)
    ).status_code == 403
    assert (await http.post("/admin/renewals", json={"date": "28-02-2027"})).status_code == 422


async def test_the_operator_command_runs_renewal_for_a_date_on_the_billing_database(billing):
    await billing.deliver(uf_published(date(2027, 2, 28), "39200.00"))
    account_id = await billing.customer()
    url = billing.h.engine.url.render_as_string(hide_password=False)
    env = {**os.environ, "TIENDA_BILLING_DATABASE_URL": url}
    command = [sys.executable, "-m", "tienda.billing.renewal", "run", "--date", "2027-02-28", "--early"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=True)
    assert account_id in result.stdout
    assert "1 renewal invoice(s) for 2027-02-28" in result.stderr
    [invoice] = await billing.rows("invoices", account_id=account_id)
    assert (invoice["period_start"], invoice["total_clp"]) == (date(2027, 2, 28), 116_620)
    assert len(payloads(await billing.fresh(), "InvoiceIssued")) == 1


async def test_the_operator_command_refuses_a_date_after_today_without_early(billing):
    account_id = await billing.customer()
    env = {**os.environ, "TIENDA_BILLING_DATABASE_URL": billing.h.engine.url.render_as_string(hide_password=False)}
    command = [sys.executable, "-m", "tienda.billing.renewal", "run", "--date", "2027-02-28"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert "is after today" in result.stderr
    assert "--early" in result.stderr
    assert await billing.rows("invoices", account_id=account_id) == []
