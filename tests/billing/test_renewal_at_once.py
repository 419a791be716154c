"""Renewal issues most invoices at once, in memory, and writes them with the transaction's others
(``renewal.issue_at_once``, ``renewal_writes``); the rest (several periods due, UF value unknown,
a payment naming the invoice) are written and then issued in turn. Both must leave the same
invoice, lines, account, charges, orders, autopay request and messages behind."""

from typing import Any

from tests.billing.conftest import at_noon, payloads
from tests.renewal_day import RENEWAL, account_ids, seed
from tienda.billing.service_layer.renewal import renew_due_accounts
from tienda.billing.service_layer.renewal_reads import RenewalReads

MIX = 60
"""The renewal day's mix repeats every 60 accounts (add-ons, unpaid and over-paid orders, billing
data, cards): account n of one set and account n of the other have the same history."""

IDS = {
    "invoice_id",
    "account_id",
    "activation_id",
    "order_id",
    "carried_into",
    "request_id",
    "payment_reference",
    "payment_id",
    "reference",
    "document_id",
}
SEEDED = frozenset({"event_id", "recorded_at", "created_at", "as_of", "subscribed_at"})
"""Set when each set was seeded (and the snapshot's moment): not renewal's doing."""


def _without_ids(row: dict[str, Any], invoice_id: str, also: frozenset[str] = frozenset()) -> dict[str, Any]:
    kept = {name: value for name, value in row.items() if name not in IDS | also}
    named = [name for name in ("invoice_id", "carried_into") if name in row]
    kept |= {f"{name}_is_the_invoice": row[name] == invoice_id for name in named}
    return kept


def _deep_without_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {name: _deep_without_ids(item) for name, item in value.items() if name not in IDS | SEEDED}
    if isinstance(value, list):
        return [_deep_without_ids(item) for item in value]
    return value


async def _renewal_of(billing, messages, account_id: str) -> dict[str, Any]:
    [invoice] = await billing.rows("invoices", account_id=account_id, kind="renewal")
    invoice_id = invoice["invoice_id"]
    lines = sorted(await billing.rows("invoice_lines", invoice_id=invoice_id), key=lambda line: line["position"])
    charges = await billing.rows("charges", account_id=account_id)
    orders = await billing.rows("orders", account_id=account_id)
    [account] = await billing.rows("billing_accounts", account_id=account_id)
    requests = await billing.rows("payment_requests", account_id=account_id)
    mine = [message for message in messages if message["account_id"] == account_id]
    [issued] = payloads(mine, "InvoiceIssued")
    issued_lines = [_without_ids(line, invoice_id) for line in issued.pop("lines")]
    return {
        "invoice": _without_ids(invoice, invoice_id),
        "lines": [_without_ids(line, invoice_id) for line in lines],
        "account": _without_ids(account, invoice_id),
        "charges": sorted(repr(_without_ids(charge, invoice_id, SEEDED)) for charge in charges),
        "orders": sorted(repr(_without_ids(order, invoice_id, SEEDED)) for order in orders),
        "requests": [_without_ids(request, invoice_id) for request in requests],
        "messages": [message["type"] for message in mine],
        "issued": _without_ids(issued, invoice_id) | {"carried_orders": len(issued["carried_orders"])},
        "issued_lines": issued_lines,
        "requested": [_without_ids(p, invoice_id) for p in payloads(mine, "PaymentRequested")],
        "snapshot": [_deep_without_ids(p) for p in payloads(mine, "BillingSnapshot")][-1:],
    }


async def test_invoices_issued_at_once_are_the_invoices_issued_in_turn(billing, engine, monkeypatch):
    in_turn, at_once = account_ids(MIX, "acc-turn"), account_ids(MIX, "acc-once")
    await seed(billing.h.definition, engine, in_turn + at_once)
    await billing.fresh()
    real, issued_at_once = RenewalReads.issues_at_once, set()

    def issues_at_once(reads: RenewalReads, period) -> bool:
        if reads.account.account_id in in_turn or not real(reads, period):
            return False
        issued_at_once.add(reads.account.account_id)
        return True

    monkeypatch.setattr(RenewalReads, "issues_at_once", issues_at_once)
    renewed = await renew_due_accounts(billing.unit_of_work, RENEWAL, at_noon(RENEWAL))
    assert renewed.invoices == 2 * MIX
    assert issued_at_once == set(at_once)
    messages = await billing.fresh()
    for turn, once in zip(in_turn, at_once, strict=True):
        assert await _renewal_of(billing, messages, once) == await _renewal_of(billing, messages, turn)
