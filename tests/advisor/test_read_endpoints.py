"""Read side: an account's requests and timeline; an executive's open queue, due first first,
readable only with a token for every account."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tests.advisor.samples import (
    MONDAY_MORNING,
    activation_completed,
    autopay_failed,
    request_submitted,
    request_updated,
    settings,
)
from tests.harness import Harness, harness
from tests.samples import account
from tienda.advisor.bootstrap import definition
from tienda.contracts.messages.advisor import RequestKind, RequestStatus
from tienda.messaging.http import TokenRing

TOKENS = TokenRing({"ops-token": ["*"], "erp-ferreteria": ["acc-ferreteria"]})
TUESDAY_NOON = datetime(2026, 3, 17, 15, 0, tzinfo=UTC)


@pytest.fixture
async def advisor(engine) -> Harness:
    return await harness(definition(settings()), engine)


async def get(advisor: Harness, path: str, token: str | None = "ops-token", now: datetime = TUESDAY_NOON):
    """GET as the worker serves it, its clock at ``now``."""
    at_now = replace(advisor, definition=definition(settings(), clock=lambda: now))
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with at_now.http(TOKENS) as http:
        return await http.get(path, headers=headers)


async def test_an_accounts_requests_show_status_executive_and_what_the_customer_was_told(advisor):
    account_id = account()
    await advisor.deliver(request_submitted(account_id, request_id="sol-1"))
    later = MONDAY_MORNING + timedelta(hours=1)
    await advisor.deliver(
        request_submitted(account_id, "No puedo emitir facturas", request_id="sol-2", occurred_at=later)
    )
    body = (await get(advisor, f"/accounts/{account_id}/requests")).json()
    redirected, demo = body["requests"]
    assert (demo["request_id"], demo["status"], demo["executive_id"], demo["redirect"]) == (
        "sol-1",
        "open",
        "ej-paula",
        None,
    )
    assert demo["first_response_due_at"] == "2026-03-16T21:00:00+00:00"
    assert demo["preferred_contact"] == {"channel": "phone", "value": "+56 9 8765 4321", "when": "mañanas"}
    assert (redirected["request_id"], redirected["status"], redirected["redirect"]["reason"]) == (
        "sol-2",
        "redirected",
        "fault_described",
    )
    assert "Chat de Soporte" in redirected["redirect"]["message"]


async def test_the_timeline_lists_entries_newest_first_with_the_follow_ups(advisor):
    account_id = account()
    await advisor.deliver(activation_completed(account_id))
    await advisor.deliver(autopay_failed(account_id))
    body = (await get(advisor, f"/accounts/{account_id}/timeline")).json()
    assert [entry["kind"] for entry in body["timeline"]] == ["autopay_failed", "activation_completed"]
    [follow_up] = body["follow_ups"]
    assert (follow_up["kind"], follow_up["status"], follow_up["executive_id"]) == ("payment", "open", "ej-paula")


async def test_an_executives_queue_holds_open_requests_and_follow_ups_due_first_first(advisor):
    ferreteria, panaderia = account(), account()
    await advisor.deliver(request_submitted(ferreteria, request_id="sol-demo"))
    await advisor.deliver(autopay_failed(ferreteria))
    await advisor.deliver(
        request_submitted(
            ferreteria,
            "Queremos capacitación en Remuneraciones",
            RequestKind.TRAINING,
            request_id="sol-early",
            occurred_at=MONDAY_MORNING - timedelta(days=3),
        )
    )
    await advisor.deliver(request_submitted(ferreteria, request_id="sol-closed"))
    await advisor.deliver(request_updated(ferreteria, "sol-closed", RequestStatus.CLOSED))
    await advisor.deliver(request_submitted(panaderia, request_id="sol-matias"))
    body = (await get(advisor, "/executives/ej-paula/queue")).json()
    assert body["executive"] == {"name": "Paula Fuentes", "email": "paula.fuentes@tienda.cl"}
    queue = [(item["item"], item.get("request_id") or item["kind"], item["overdue"]) for item in body["queue"]]
    assert queue == [
        ("request", "sol-early", True),  # Friday 10:00 + 8 h: Friday 18:00
        ("request", "sol-demo", True),  # Monday 18:00, and it is Tuesday noon
        ("follow_up", "payment", False),  # Tuesday 17:00
    ]
    matias = (await get(advisor, "/executives/ej-matias/queue")).json()["queue"]
    assert [item["request_id"] for item in matias] == ["sol-matias"]


async def test_an_executives_queue_needs_a_token_for_every_account(advisor):
    assert (await get(advisor, "/executives/ej-paula/queue", token=None)).status_code == 401
    assert (await get(advisor, "/executives/ej-paula/queue", token="nope")).status_code == 401
    limited = await get(advisor, "/executives/ej-paula/queue", token="erp-ferreteria")
    assert limited.status_code == 403


async def test_an_accounts_requests_need_a_token_for_that_account(advisor):
    assert (await get(advisor, "/accounts/acc-ferreteria/requests", token="erp-ferreteria")).status_code == 200
    assert (await get(advisor, "/accounts/acc-panaderia/requests", token="erp-ferreteria")).status_code == 403
