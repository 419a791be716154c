"""Commercial requests: stored, assigned to the account's executive and announced; support
redirected with a message for the customer; updated by the executive; moved on reassignment."""

from datetime import UTC, datetime

import pytest

from tests.advisor.samples import (
    IGNACIO,
    MONDAY_MORNING,
    executive_assigned,
    request_submitted,
    request_updated,
    settings,
)
from tests.harness import Harness, harness
from tests.samples import account
from tienda.advisor.bootstrap import definition
from tienda.advisor.config import AdvisorSettings
from tienda.contracts.messages.advisor import RequestKind, RequestStatus
from tienda.messaging.processor import Outcome


@pytest.fixture
async def advisor(engine) -> Harness:
    return await harness(definition(settings()), engine)


def of_type(messages, message_type):
    return [message for message in messages if message["type"] == message_type]


async def test_a_demo_request_is_assigned_to_an_executive_and_announced_with_its_due_time(advisor):
    account_id = account()
    submitted = request_submitted(account_id, request_id="sol-2026-0117")
    await advisor.deliver(submitted)
    [announced] = await advisor.relay()
    assert announced["type"] == "CommercialRequestAssigned"
    assert announced["causation_id"] == str(submitted.event_id)
    payload = announced["payload"]
    assert (payload["request_id"], payload["kind"], payload["executive"]["executive_id"]) == (
        "sol-2026-0117",
        "demo",
        "ej-paula",
    )
    # Monday 10:00 in Santiago plus 8 business hours: Monday 18:00 (21:00 UTC).
    assert payload["first_response_due_at"] == "2026-03-16T21:00:00Z"
    [stored] = await advisor.rows("requests")
    assert (stored["status"], stored["executive_id"]) == ("open", "ej-paula")


async def test_the_same_request_id_sent_twice_is_one_request(advisor):
    account_id = account()
    await advisor.deliver(request_submitted(account_id, request_id="sol-1"))
    await advisor.deliver(request_submitted(account_id, request_id="sol-1", text="Otra vez: queremos la demo."))
    assert len(await advisor.rows("requests")) == 1
    assert len(await advisor.relay()) == 1


async def test_an_accounts_requests_all_go_to_its_executive(advisor):
    ferreteria, panaderia = account(), account()
    for account_id in (ferreteria, panaderia, ferreteria):
        await advisor.deliver(request_submitted(account_id))
    executives = {(row["account_id"], row["executive_id"]) for row in await advisor.rows("requests")}
    assert executives == {(ferreteria, "ej-paula"), (panaderia, "ej-matias")}


async def test_a_support_request_is_redirected_and_the_customer_is_told(advisor):
    account_id = account()
    text = "No puedo ingresar al sistema desde ayer, me dice usuario bloqueado."
    submitted = request_submitted(account_id, text, RequestKind.NEW_FEATURE, request_id="sol-77")
    assert await advisor.deliver(submitted) == Outcome.REJECTED
    [redirected] = await advisor.relay()
    assert redirected["type"] == "CommercialRequestRedirected"
    payload = redirected["payload"]
    assert (payload["request_id"], payload["redirected_to"], payload["reason"], payload["matched"]) == (
        "sol-77",
        "support_chat",
        "fault_described",
        "No puedo ingresar",
    )
    assert "Chat de Soporte" in payload["message"]
    [stored] = await advisor.rows("requests")
    assert (stored["status"], stored["executive_id"], stored["customer_message"]) == (
        "redirected",
        None,
        payload["message"],
    )
    [entry] = await advisor.rows("timeline")
    assert entry["kind"] == "request_redirected"


async def test_a_request_sent_as_support_is_redirected_even_if_it_reads_commercial(advisor):
    await advisor.deliver(request_submitted(account(), "Quiero cotizar usuarios extra", RequestKind.SUPPORT))
    [redirected] = await advisor.relay()
    assert (redirected["type"], redirected["payload"]["reason"]) == ("CommercialRequestRedirected", "support_kind")


async def test_a_commercial_request_mentioning_errors_reaches_the_executive(advisor):
    text = "Queremos una capacitación para evitar errores al emitir notas de crédito."
    await advisor.deliver(request_submitted(account(), text, RequestKind.TRAINING))
    [announced] = await advisor.relay()
    assert announced["type"] == "CommercialRequestAssigned"


async def test_the_executives_first_update_is_the_first_response(advisor):
    account_id = account()
    await advisor.deliver(request_submitted(account_id, request_id="sol-5"))
    answered = datetime(2026, 3, 16, 15, 30, tzinfo=UTC)
    await advisor.deliver(request_updated(account_id, "sol-5", RequestStatus.IN_PROGRESS, occurred_at=answered))
    await advisor.deliver(request_updated(account_id, "sol-5", RequestStatus.RESOLVED))
    [stored] = await advisor.rows("requests")
    assert stored["status"] == "resolved"
    assert stored["first_response_at"].replace(tzinfo=UTC) == answered


async def test_a_closed_request_stays_closed_and_the_refusal_is_on_the_timeline(advisor):
    account_id = account()
    await advisor.deliver(request_submitted(account_id, request_id="sol-6"))
    await advisor.deliver(request_updated(account_id, "sol-6", RequestStatus.CLOSED))
    await advisor.deliver(request_updated(account_id, "sol-6", RequestStatus.IN_PROGRESS))
    [stored] = await advisor.rows("requests")
    assert stored["status"] == "closed"
    kinds = sorted(row["kind"] for row in await advisor.rows("timeline"))
    assert kinds == ["request_submitted", "request_updated", "update_refused"]


async def test_an_update_of_a_request_never_submitted_is_dead_lettered(advisor):
    outcome = await advisor.deliver(request_updated(account(), "sol-fantasma", RequestStatus.IN_PROGRESS))
    assert outcome == Outcome.DEAD_LETTERED
    [letter] = advisor.dead_letters()
    assert letter["x-tienda-error-class"] == "UnresolvableReference"


async def test_the_crm_assigns_an_executive_and_open_requests_move_with_the_account(advisor):
    account_id = account()
    await advisor.deliver(request_submitted(account_id, request_id="sol-open"))
    await advisor.deliver(request_submitted(account_id, request_id="sol-done"))
    await advisor.deliver(request_updated(account_id, "sol-done", RequestStatus.RESOLVED))
    await advisor.relay()
    await advisor.deliver(executive_assigned(account_id, IGNACIO))
    [moved] = of_type(await advisor.relay(), "CommercialRequestAssigned")[2:]
    assert moved["payload"]["request_id"] == "sol-open"
    assert (moved["payload"]["executive"]["executive_id"], moved["payload"]["reassigned_from"]) == (
        "ej-ignacio",
        "ej-paula",
    )
    assert moved["payload"]["first_response_due_at"] == "2026-03-16T21:00:00Z"
    rows = {row["request_id"]: row["executive_id"] for row in await advisor.rows("requests")}
    assert rows == {"sol-open": "ej-ignacio", "sol-done": "ej-paula"}
    assert [(row["executive_id"], row["source"]) for row in await advisor.rows("assignments")] == [
        ("ej-ignacio", "crm")
    ]


async def test_an_account_the_crm_assigned_keeps_its_executive_for_new_requests(advisor):
    account_id = account()
    await advisor.deliver(executive_assigned(account_id, IGNACIO))
    await advisor.deliver(request_submitted(account_id))
    [announced] = await advisor.relay()
    assert announced["payload"]["executive"] == {
        "executive_id": "ej-ignacio",
        "name": "Ignacio Pérez",
        "email": "ignacio.perez@tienda.cl",
    }


async def test_the_crm_assigning_the_same_executive_again_moves_nothing(advisor):
    account_id = account()
    await advisor.deliver(executive_assigned(account_id, IGNACIO))
    await advisor.deliver(request_submitted(account_id))
    await advisor.relay()
    await advisor.deliver(executive_assigned(account_id, IGNACIO))
    assert len(await advisor.relay()) == 1


async def test_without_anyone_to_assign_the_request_waits_and_operations_are_told(engine):
    advisor = await harness(definition(AdvisorSettings(executives=[])), engine)
    account_id = account()
    await advisor.deliver(request_submitted(account_id, request_id="sol-9", occurred_at=MONDAY_MORNING))
    [alert] = await advisor.relay()
    assert (alert["type"], alert["payload"]["kind"]) == ("OperationsAlert", "executive_missing")
    [stored] = await advisor.rows("requests")
    assert (stored["status"], stored["executive_id"]) == ("open", None)
    await advisor.deliver(executive_assigned(account_id, IGNACIO))
    [announced] = of_type(await advisor.relay(), "CommercialRequestAssigned")
    assert (announced["payload"]["request_id"], announced["payload"]["reassigned_from"]) == ("sol-9", None)
