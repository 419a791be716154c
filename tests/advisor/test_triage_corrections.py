"""The support triage in the service: its decision and confidence travel with the request and its
announcements; the executive corrects it (a commercial request sent to support, a redirected one
back to the executive), the customer or the executive is told, and the corrections are kept and
exported in the corpus' format."""

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from tests.advisor.samples import (
    MONDAY_MORNING,
    autopay_failed,
    reclassified_commercial,
    request_submitted,
    request_updated,
    sent_to_support,
    settings,
)
from tests.harness import Harness, harness
from tests.samples import account
from tienda.advisor.bootstrap import definition, policy
from tienda.advisor.domain.support_model import support_model
from tienda.advisor.entrypoints.cli import app
from tienda.advisor.service_layer.handlers import raise_overdue_alerts
from tienda.contracts.messages.advisor import RequestKind, RequestStatus
from tienda.devkit.triage_corpus import REPORTED, assign_splits, load
from tienda.messaging.http import TokenRing
from tienda.messaging.processor import Outcome

# The classifier keeps it commercial (p(support) about 0.43): a fault the executive sends to support.
HANGS = "El módulo de remuneraciones se pega cuando calculamos a todos los trabajadores juntos."
# Redirected as support (p about 0.95), but the plan's limit is a commercial matter.
AT_THE_LIMIT = "No puedo cargar más trabajadores, me dice que llegué al límite. ¿Cómo lo solucionamos?"
CORRECTED = MONDAY_MORNING + timedelta(hours=2)  # Monday 12:00 in Santiago
TOKENS = TokenRing({"ops": ["*"]})
OPERATOR = {"Authorization": "Bearer ops"}


@pytest.fixture
async def advisor(engine) -> Harness:
    return await harness(definition(settings()), engine)


async def export(database_url: str, *options: str):
    """``python -m tienda.advisor.cli corrections export`` on this database (in a thread: it runs its own loop)."""
    arguments = ["--database-url", database_url, "corrections", "export", *options]
    return await asyncio.to_thread(CliRunner().invoke, app, arguments)


def of_type(messages, message_type):
    return [message for message in messages if message["type"] == message_type]


async def test_an_assigned_request_carries_the_triages_decision_and_confidence(advisor):
    account_id = account()
    await advisor.deliver(request_submitted(account_id, HANGS, RequestKind.OTHER_COMMERCIAL, request_id="sol-1"))
    [assigned] = await advisor.relay()
    triage = assigned["payload"]["triage"]
    assert (triage["decision"], triage["corrected_by"]) == ("commercial", None)
    assert 0.5 < triage["confidence"] < 0.7
    [stored] = await advisor.rows("requests")
    assert (stored["triage_decision"], stored["triage_confidence"]) == ("commercial", triage["confidence"])


async def test_a_redirected_request_carries_the_triages_decision_and_confidence(advisor):
    account_id = account()
    await advisor.deliver(request_submitted(account_id, AT_THE_LIMIT, RequestKind.OTHER_COMMERCIAL))
    await advisor.deliver(request_submitted(account_id, "Quiero cotizar usuarios", RequestKind.SUPPORT))
    by_text, by_kind = of_type(await advisor.relay(), "CommercialRequestRedirected")
    assert (by_text["payload"]["reason"], by_text["payload"]["triage"]["decision"]) == ("fault_described", "support")
    assert by_text["payload"]["triage"]["confidence"] > 0.9
    assert (by_kind["payload"]["reason"], by_kind["payload"]["triage"]) == (
        "support_kind",
        {"decision": "support", "confidence": 1.0, "corrected_by": None},
    )


@pytest.mark.parametrize("example", load(REPORTED), ids=lambda example: example.topic)
async def test_the_requests_reported_in_issue_19_are_redirected_by_the_service(advisor, example):
    outcome = await advisor.deliver(request_submitted(account(), example.text, RequestKind.OTHER_COMMERCIAL))
    assert outcome == Outcome.REJECTED
    [redirected] = await advisor.relay()
    assert redirected["type"] == "CommercialRequestRedirected"


def test_the_worker_loads_the_support_model_when_it_is_defined_not_at_the_first_request():
    support_model.cache_clear()
    definition(settings())
    assert support_model.cache_info().currsize == 1


# --- the executive sends a commercial request to support


async def test_the_executive_sends_a_request_to_support_and_the_customer_is_told_as_by_the_triage(advisor):
    account_id = account()
    await advisor.deliver(request_submitted(account_id, HANGS, RequestKind.OTHER_COMMERCIAL, request_id="sol-7"))
    [assigned] = await advisor.relay()
    assert await advisor.deliver(sent_to_support(account_id, "sol-7", CORRECTED)) == Outcome.PROCESSED
    [_, redirected] = await advisor.relay()
    payload = redirected["payload"]
    assert redirected["type"] == "CommercialRequestRedirected"
    assert (payload["request_id"], payload["redirected_to"], payload["reason"], payload["matched"]) == (
        "sol-7",
        "support_chat",
        "executive_correction",
        "se pega",
    )
    assert payload["message"].startswith("Tu mensaje describe un problema técnico («se pega»). El Asesor Comercial")
    assert "Chat de Soporte" in payload["message"]
    assert "sol-7" in payload["message"]
    assert payload["triage"] == {**assigned["payload"]["triage"], "corrected_by": "ej-paula"}
    [stored] = await advisor.rows("requests")
    assert (stored["status"], stored["redirect_reason"], stored["customer_message"]) == (
        "redirected",
        "executive_correction",
        payload["message"],
    )


async def test_a_request_sent_to_support_leaves_the_queue_and_is_never_overdue(advisor):
    account_id = account()
    await advisor.deliver(request_submitted(account_id, HANGS, request_id="sol-8"))
    await advisor.deliver(sent_to_support(account_id, "sol-8", CORRECTED))
    async with advisor.unit_of_work() as uow:
        assert await raise_overdue_alerts(uow, MONDAY_MORNING + timedelta(days=10), policy(settings())) == 0
    async with advisor.http(TOKENS) as http:
        queue = (await http.get("/executives/ej-paula/queue", headers=OPERATOR)).json()["queue"]
    assert queue == []


async def test_the_correction_is_kept_with_the_text_the_automatic_decision_and_who_corrected_it(advisor):
    account_id = account()
    await advisor.deliver(request_submitted(account_id, HANGS, request_id="sol-9"))
    [assigned] = await advisor.relay()
    update = sent_to_support(account_id, "sol-9", CORRECTED)
    await advisor.deliver(update)
    await advisor.deliver(update)  # delivered twice: kept once
    [kept] = await advisor.rows("triage_corrections")
    assert {key: kept[key] for key in ("account_id", "request_id", "text", "automatic_decision", "label")} == {
        "account_id": account_id,
        "request_id": "sol-9",
        "text": HANGS,
        "automatic_decision": "commercial",
        "label": "support",
    }
    assert kept["confidence"] == assigned["payload"]["triage"]["confidence"]
    assert (kept["corrected_by"], kept["corrected_at"].replace(tzinfo=UTC), kept["note"]) == (
        "ej-paula",
        CORRECTED,
        "Es un problema de emisión, lo ve soporte.",
    )
    assert kept["event_id"] == str(update.event_id)
    kinds = [row["kind"] for row in await advisor.rows("timeline")]
    assert kinds == ["request_submitted", "triage_corrected"]


async def test_a_resolved_request_is_not_sent_to_support_and_the_refusal_is_on_the_timeline(advisor):
    account_id = account()
    await advisor.deliver(request_submitted(account_id, HANGS, request_id="sol-10"))
    await advisor.deliver(request_updated(account_id, "sol-10", RequestStatus.RESOLVED))
    sent = len(await advisor.relay())
    await advisor.deliver(sent_to_support(account_id, "sol-10", CORRECTED))
    assert len(await advisor.relay()) == sent
    assert await advisor.rows("triage_corrections") == []
    [stored] = await advisor.rows("requests")
    assert stored["status"] == "resolved"
    refused = [row["summary"] for row in await advisor.rows("timeline") if row["kind"] == "update_refused"]
    assert refused == ["ej-paula could not set sol-10 (resolved) to redirected_to_support"]


# --- the executive takes a redirected request back


async def test_a_redirected_request_reclassified_commercial_reopens_in_the_executives_queue(advisor):
    account_id = account()
    await advisor.deliver(request_submitted(account_id, AT_THE_LIMIT, RequestKind.OTHER_COMMERCIAL, request_id="s-11"))
    [redirected] = await advisor.relay()
    assert await advisor.deliver(reclassified_commercial(account_id, "s-11", CORRECTED)) == Outcome.PROCESSED
    [_, assigned] = await advisor.relay()
    payload = assigned["payload"]
    assert assigned["type"] == "CommercialRequestAssigned"
    assert (payload["request_id"], payload["executive"]["executive_id"], payload["text"]) == (
        "s-11",
        "ej-paula",
        AT_THE_LIMIT,
    )
    # Counted from the correction, Monday 12:00 in Santiago, plus 8 business hours: Tuesday 11:00 (14:00 UTC).
    assert payload["first_response_due_at"] == "2026-03-17T14:00:00Z"
    assert payload["triage"] == {**redirected["payload"]["triage"], "corrected_by": "ej-paula"}
    [stored] = await advisor.rows("requests")
    assert (stored["status"], stored["executive_id"], stored["first_response_at"]) == ("open", "ej-paula", None)
    [kept] = await advisor.rows("triage_corrections")
    assert (kept["automatic_decision"], kept["label"], kept["text"]) == ("support", "commercial", AT_THE_LIMIT)


async def test_a_reclassified_request_becomes_overdue_from_its_new_due_time(advisor):
    account_id = account()
    await advisor.deliver(request_submitted(account_id, AT_THE_LIMIT, request_id="s-12"))
    await advisor.deliver(reclassified_commercial(account_id, "s-12", CORRECTED))
    new_due = datetime(2026, 3, 17, 14, 0, tzinfo=UTC)
    async with advisor.unit_of_work() as uow:
        assert await raise_overdue_alerts(uow, new_due - timedelta(minutes=1), policy(settings())) == 0
        assert await raise_overdue_alerts(uow, new_due + timedelta(minutes=1), policy(settings())) == 1
        await uow.commit()


async def test_an_open_request_is_not_reclassified_and_nothing_is_announced(advisor):
    account_id = account()
    await advisor.deliver(request_submitted(account_id, HANGS, request_id="s-13"))
    [assigned] = await advisor.relay()
    await advisor.deliver(reclassified_commercial(account_id, "s-13", CORRECTED))
    assert await advisor.relay() == [assigned]
    assert await advisor.rows("triage_corrections") == []
    assert "update_refused" in [row["kind"] for row in await advisor.rows("timeline")]


async def test_a_follow_up_has_no_triage_to_correct(advisor):
    account_id = account()
    await advisor.deliver(autopay_failed(account_id))
    [follow_up] = await advisor.rows("follow_ups")
    assert await advisor.deliver(sent_to_support(account_id, follow_up["follow_up_id"])) == Outcome.PROCESSED
    assert (await advisor.rows("follow_ups"))[0]["status"] == "open"
    assert "update_refused" in [row["kind"] for row in await advisor.rows("timeline")]


async def test_a_correction_of_a_request_never_submitted_is_dead_lettered(advisor):
    assert await advisor.deliver(sent_to_support(account(), "sol-fantasma")) == Outcome.DEAD_LETTERED
    [letter] = advisor.dead_letters()
    assert letter["x-tienda-error-class"] == "UnresolvableReference"


# --- the export for the corpus


async def test_the_corrections_are_exported_as_corpus_lines_the_corpus_reads(advisor, database_url, tmp_path):
    ferreteria, panaderia = account(), account()
    await advisor.deliver(request_submitted(ferreteria, HANGS, request_id="s-20"))
    await advisor.deliver(request_submitted(panaderia, AT_THE_LIMIT, request_id="s-21"))
    await advisor.deliver(sent_to_support(ferreteria, "s-20", CORRECTED))
    await advisor.deliver(reclassified_commercial(panaderia, "s-21", CORRECTED + timedelta(hours=1)))
    result = await export(database_url)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines == [
        {"text": HANGS, "label": "support", "topic": "executive_correction"},
        {"text": AT_THE_LIMIT, "label": "commercial", "topic": "executive_correction"},
    ]
    exported = tmp_path / "corrections.jsonl"
    exported.write_text(result.stdout, encoding="utf-8")
    dealt = assign_splits(load(exported))
    assert [(example.label, example.split is not None) for example in dealt] == [
        ("support", True),
        ("commercial", True),
    ]
    assert "2 corrected request(s)" in result.stderr


async def test_the_export_keeps_a_requests_last_label_and_tells_where_each_line_came_from(advisor, database_url):
    account_id = account()
    await advisor.deliver(request_submitted(account_id, AT_THE_LIMIT, request_id="s-30"))
    await advisor.deliver(reclassified_commercial(account_id, "s-30", CORRECTED))
    await advisor.deliver(sent_to_support(account_id, "s-30", CORRECTED + timedelta(days=1), executive_id="ej-matias"))
    result = await export(database_url, "--details", "--since", "2026-03-16")
    [line] = [json.loads(line) for line in result.stdout.splitlines()]
    assert (line["text"], line["label"]) == (AT_THE_LIMIT, "support")
    detail = line["correction"]
    assert (detail["account_id"], detail["request_id"], detail["automatic_decision"], detail["corrected_by"]) == (
        account_id,
        "s-30",
        "support",
        "ej-matias",
    )
    assert detail["corrected_at"] == "2026-03-17T15:00:00+00:00"
    later = await export(database_url, "--since", "2026-03-18")
    assert later.stdout == ""


def test_a_since_that_is_not_a_day_is_refused_with_the_form_to_use(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'advisor.db'}"
    result = CliRunner().invoke(app, ["--database-url", url, "corrections", "export", "--since", "ayer"])
    assert result.exit_code == 2
    assert "write it as YYYY-MM-DD" in result.output
