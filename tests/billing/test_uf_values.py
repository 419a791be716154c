"""UF values: a conversion uses the UF of the document's date; without it the document is held,
never guessed and never dropped, and completes when the value arrives."""

from datetime import UTC, date, datetime, timedelta

from tests.billing.conftest import USERS, charge_scheduled, of_type, payloads, uf_published
from tienda.contracts.types import PaymentMode


async def test_a_uf_value_arriving_after_the_charge_completes_the_held_order(billing):
    account_id = await billing.customer()
    await billing.deliver(charge_scheduled(account_id, date(2027, 2, 10), (USERS, 2), mode=PaymentMode.ONLINE))
    assert payloads(await billing.fresh(), "OrderCreated") == []
    [held] = await billing.rows("orders", account_id=account_id)
    assert (held["status"], held["total_clp"], held["uf_date"]) == ("held", None, date(2027, 2, 10))

    await billing.deliver(uf_published(date(2027, 2, 9), "39100.00"))  # another day's value changes nothing
    assert payloads(await billing.fresh(), "OrderCreated") == []
    value = uf_published(date(2027, 2, 10), "39123.45")
    await billing.deliver(value)
    [created] = of_type(await billing.fresh(), "OrderCreated")
    assert (created["payload"]["order_id"], created["payload"]["total_clp"]) == (held["order_id"], 29_930)
    assert created["causation_id"] == str(value.event_id)
    [row] = await billing.rows("orders", account_id=account_id)
    assert (row["status"], row["held_since"]) == ("pending", None)


async def test_a_renewal_invoice_without_its_uf_value_is_held_and_issued_when_it_arrives(billing):
    account_id = await billing.customer()
    [renewed] = await billing.renew(date(2027, 2, 28))
    assert (renewed.account_id, renewed.status) == (account_id, "held")
    assert payloads(await billing.fresh(), "InvoiceIssued") == []

    await billing.deliver(uf_published(date(2027, 2, 28), "39200.00"))
    [invoice] = payloads(await billing.fresh(), "InvoiceIssued")
    assert (invoice["invoice_id"], invoice["issue_date"], invoice["net_clp"]) == (
        renewed.invoice_id,
        "2027-02-28",
        98_000,
    )
    assert await billing.renew(date(2027, 2, 28)) == []


async def test_a_hold_older_than_the_limit_raises_one_alert_per_missing_date(billing):
    first, second = await billing.customer(), await billing.customer()
    for account_id in (first, second):
        await billing.deliver(charge_scheduled(account_id, date(2027, 2, 10), mode=PaymentMode.ONLINE))
    await billing.fresh()
    now = datetime.now(UTC)

    await billing.tick(now + timedelta(hours=5))
    assert of_type(await billing.fresh(), "OperationsAlert") == []
    await billing.tick(now + timedelta(hours=7))
    [alert] = payloads(await billing.fresh(), "OperationsAlert")
    assert (alert["kind"], alert["details"]["uf_date"]) == ("uf_value_missing", "2027-02-10")
    assert {order["account_id"] for order in alert["details"]["orders"]} == {first, second}
    await billing.tick(now + timedelta(hours=9))
    assert of_type(await billing.fresh(), "OperationsAlert") == []


async def test_a_different_value_for_a_day_already_known_is_not_taken_and_raises_an_alert(billing):
    await billing.deliver(uf_published(date(2027, 2, 10), "39123.45"))
    await billing.deliver(uf_published(date(2027, 2, 10), "39123.45"))
    assert of_type(await billing.fresh(), "OperationsAlert") == []
    await billing.deliver(uf_published(date(2027, 2, 10), "40000.00"))
    [alert] = payloads(await billing.fresh(), "OperationsAlert")
    assert (alert["kind"], alert["details"]["kept"]) == ("uf_value_conflict", "39123.45")
    [row] = await billing.rows("uf_values")
    assert str(row["clp_per_uf"]) == "39123.45"
