"""The advisor on the real broker: a failed autopay becomes a follow-up in the executive's
queue; a demo request reaches the executive's queue; a support request is redirected and
the customer is told."""

import json
import uuid
from collections.abc import Iterator

import pytest

from tests.advisor.samples import autopay_failed, executive_assigned, request_submitted, sent_to_support
from tests.kafka_client import TopicReader, publish
from tests.samples import account
from tests.waiting import eventually
from tienda.contracts.messages.advisor import Executive, RequestKind
from tienda.contracts.topics import ADVISOR_EVENTS, ADVISOR_REQUESTS, BILLING_EVENTS

pytestmark = pytest.mark.broker

ROSTER = [
    {"id": "ej-e2e-paula", "name": "Paula Fuentes", "email": "paula.fuentes@tienda.cl"},
    {"id": "ej-e2e-matias", "name": "Matías Soto", "email": "matias.soto@tienda.cl"},
]


@pytest.fixture(scope="module", autouse=True)
def advisor_roster() -> Iterator[None]:
    """The advisor worker of this module starts with a rotation of two executives."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TIENDA_ADVISOR_EXECUTIVES", json.dumps(ROSTER))
        yield


async def advisor_event(bootstrap_servers, account_id, message_type):
    async with TopicReader(bootstrap_servers, ADVISOR_EVENTS.name) as events:

        async def published():
            await events.poll()
            return events.messages(account_id, message_type)

        [event] = await eventually(published, what=f"{message_type} on {ADVISOR_EVENTS.name}")
    return event


async def test_a_failed_autopay_in_billing_becomes_a_follow_up_in_the_executives_queue(bootstrap_servers, workers):
    account_id = account()
    await publish(bootstrap_servers, BILLING_EVENTS.name, autopay_failed(account_id, "F-2026-009931", 119_000))

    async def follow_ups():
        return workers.get_json("advisor", f"/accounts/{account_id}/timeline")["follow_ups"]

    [follow_up] = await eventually(follow_ups, what="the payment follow-up")
    assert (follow_up["kind"], follow_up["reference"]) == ("payment", "F-2026-009931")
    assert follow_up["executive_id"] in {executive["id"] for executive in ROSTER}
    queue = workers.get_json("advisor", f"/executives/{follow_up['executive_id']}/queue")["queue"]
    assert follow_up["follow_up_id"] in [item.get("follow_up_id") for item in queue]
    raised = await advisor_event(bootstrap_servers, account_id, "FollowUpRaised")
    assert raised["payload"]["follow_up_id"] == follow_up["follow_up_id"]


async def test_a_demo_request_reaches_the_executives_queue(bootstrap_servers, workers):
    account_id, executive_id = account(), f"ej-{uuid.uuid4().hex[:8]}"
    executive = Executive(executive_id=executive_id, name="Ignacio Pérez", email="ignacio.perez@tienda.cl")
    demo = request_submitted(account_id, request_id="sol-demo-bi", kind=RequestKind.DEMO)
    await publish(bootstrap_servers, ADVISOR_REQUESTS.name, executive_assigned(account_id, executive), demo)

    async def in_queue():
        return workers.get_json("advisor", f"/executives/{executive_id}/queue")["queue"]

    [item] = await eventually(in_queue, what="the demo request in the executive's queue")
    assert (item["item"], item["request_id"], item["kind"], item["status"]) == (
        "request",
        "sol-demo-bi",
        "demo",
        "open",
    )
    assigned = await advisor_event(bootstrap_servers, account_id, "CommercialRequestAssigned")
    assert assigned["payload"]["executive"]["executive_id"] == executive_id
    assert assigned["causation_id"] == str(demo.event_id)


async def test_a_support_request_is_redirected_and_the_customer_is_told(bootstrap_servers, workers):
    account_id = account()
    text = "Hola, me aparece un error al emitir facturas desde ayer y no puedo enviarlas al SII."
    support = request_submitted(account_id, text, RequestKind.OTHER_COMMERCIAL, request_id="sol-soporte-1")
    await publish(bootstrap_servers, ADVISOR_REQUESTS.name, support)
    redirected = await advisor_event(bootstrap_servers, account_id, "CommercialRequestRedirected")
    payload = redirected["payload"]
    assert (payload["request_id"], payload["redirected_to"], payload["matched"]) == (
        "sol-soporte-1",
        "support_chat",
        "me aparece un error",
    )
    assert "Chat de Soporte" in payload["message"]
    [stored] = workers.get_json("advisor", f"/accounts/{account_id}/requests")["requests"]
    assert (stored["status"], stored["redirect"]["message"]) == ("redirected", payload["message"])


async def test_the_executive_sends_a_request_to_support_and_the_customer_is_told(bootstrap_servers, workers):
    account_id = account()
    text = "El módulo de remuneraciones se pega cuando calculamos a todos los trabajadores juntos."
    hangs = request_submitted(account_id, text, RequestKind.OTHER_COMMERCIAL, request_id="sol-se-pega")
    await publish(bootstrap_servers, ADVISOR_REQUESTS.name, hangs)
    assigned = await advisor_event(bootstrap_servers, account_id, "CommercialRequestAssigned")
    assert assigned["payload"]["triage"]["decision"] == "commercial"
    await publish(bootstrap_servers, ADVISOR_REQUESTS.name, sent_to_support(account_id, "sol-se-pega"))
    redirected = await advisor_event(bootstrap_servers, account_id, "CommercialRequestRedirected")
    payload = redirected["payload"]
    assert (payload["reason"], payload["matched"], payload["triage"]["corrected_by"]) == (
        "executive_correction",
        "se pega",
        "ej-paula",
    )
    assert "Chat de Soporte" in payload["message"]
    [stored] = workers.get_json("advisor", f"/accounts/{account_id}/requests")["requests"]
    assert (stored["status"], stored["redirect"]["reason"]) == ("redirected", "executive_correction")
