"""Mis datos de pago through the handler: accepted as a new version, or rejected naming each problem."""

from tests.billing.conftest import billing_data_submitted, payloads
from tienda.messaging.processor import Outcome


async def test_valid_billing_data_is_accepted_as_the_first_version_with_the_rut_as_printed(billing):
    account_id = await billing.customer()
    await billing.deliver(billing_data_submitted(account_id, rut="76086428-5", submission_id="sub-1"))
    messages = await billing.fresh()
    [accepted] = payloads(messages, "BillingDataAccepted")
    assert (accepted["submission_id"], accepted["billing_data"]["version"], accepted["billing_data"]["rut"]) == (
        "sub-1",
        1,
        "76.086.428-5",
    )
    [stored] = await billing.rows("billing_data", account_id=account_id)
    assert (stored["rut"], stored["legal_name"]) == ("76086428-5", "Ferretería Rojas SpA")
    [snapshot] = payloads(messages, "BillingSnapshot")
    assert snapshot["billing_data"]["version"] == 1


async def test_each_accepted_submission_is_a_new_version(billing):
    account_id = await billing.customer()
    await billing.deliver(billing_data_submitted(account_id), billing_data_submitted(account_id, comuna="Providencia"))
    versions = [(row["version"], row["comuna"]) for row in await billing.rows("billing_data", account_id=account_id)]
    assert sorted(versions) == [(1, "Santiago"), (2, "Providencia")]


async def test_invalid_billing_data_is_rejected_naming_every_problem_and_the_last_version_stays(billing):
    account_id = await billing.customer()
    await billing.deliver(billing_data_submitted(account_id))
    await billing.fresh()
    outcome = await billing.h.deliver(
        billing_data_submitted(
            account_id, rut="76.086.428-0", legal_name=" ", billing_email="facturas(at)ferreteria-rojas.cl"
        )
    )
    assert outcome is Outcome.REJECTED
    [rejected] = payloads(await billing.fresh(), "BillingDataRejected")
    assert [(p["field"], p["message"]) for p in rejected["problems"]] == [
        ("legal_name", "is blank: enter the legal name (razón social) as registered with the SII"),
        ("rut", "76.086.428-0 has a wrong check digit (expected 5)"),
        ("billing_email", "facturas(at)ferreteria-rojas.cl is not an e-mail address: write it as name@company.cl"),
    ]
    assert [row["version"] for row in await billing.rows("billing_data", account_id=account_id)] == [1]


async def test_the_same_submission_twice_is_decided_once(billing):
    account_id = await billing.customer()
    await billing.deliver(billing_data_submitted(account_id, submission_id="sub-7"))
    await billing.deliver(billing_data_submitted(account_id, submission_id="sub-7", comuna="Ñuñoa"))
    assert len(payloads(await billing.fresh(), "BillingDataAccepted")) == 1
    assert len(await billing.rows("billing_data", account_id=account_id)) == 1
