"""The store's, billing's and the gateway's events handled in runs, as the worker's batches bring
them: the same timeline, follow-ups and announcements as one by one, each run's entries written in
one statement that leaves out the facts the timeline tells already."""

import json
from typing import Any

import pytest
from sqlalchemy import event

from tests.advisor.samples import (
    INVENTORY,
    USERS,
    activation_completed,
    activation_rejected,
    autopay_failed,
    charge_scheduled,
    settings,
)
from tests.harness import Harness, harness
from tests.samples import account, payment_received
from tienda.advisor.bootstrap import definition
from tienda.advisor.service_layer import summaries
from tienda.contracts.envelope import Envelope, new_envelope
from tienda.messaging.codec import encode
from tienda.messaging.processor import Outcome


@pytest.fixture
async def advisor(engine) -> Harness:
    return await harness(definition(settings()), engine)


def story(account_id: str) -> list[Envelope[Any]]:
    """One account's week as the advisor reads it, repeats and follow-ups included."""
    return [
        charge_scheduled(account_id),
        activation_completed(account_id, USERS, INVENTORY),  # a module: training offered
        charge_scheduled(account_id),  # the same charge in another event: told once
        activation_rejected(account_id, "quantity_out_of_bounds", request_id="req-a"),  # an upgrade raised
        activation_rejected(account_id, "not_sold_to_plan", request_id="req-b"),  # one upgrade open already
        autopay_failed(account_id),  # a payment follow-up
        payment_received(account_id, "ORD-2026-0042", 42_900, payment_id="wp-778899"),
        payment_received(account_id, "ORD-2026-0042", 42_900, payment_id="wp-778899"),
    ]


async def test_a_run_of_events_leaves_what_they_leave_one_by_one(advisor):
    alone, together = account(), account()
    for envelope in story(alone):
        assert await advisor.deliver(envelope) == Outcome.PROCESSED
    run = story(together)
    assert await advisor.deliver_batch(run) == [Outcome.PROCESSED] * len(run)

    timeline, follow_ups, sent = await advisor.rows("timeline"), await advisor.rows("follow_ups"), await advisor.relay()

    def told(account_id: str) -> list[tuple[str, str, str]]:
        rows = sorted((row for row in timeline if row["account_id"] == account_id), key=lambda row: row["id"])
        return [(row["kind"], row["reference"], row["summary"]) for row in rows]

    def raised(account_id: str) -> list[tuple[str, str, str]]:
        rows = (row for row in follow_ups if row["account_id"] == account_id)
        return sorted((row["kind"], row["reference"], row["summary"]) for row in rows)

    def announced(account_id: str) -> list[tuple[str, str, str]]:
        return [
            (message["type"], message["payload"]["kind"], message["payload"]["reference"])
            for message in sent
            if message["account_id"] == account_id
        ]

    assert told(together) == told(alone)
    assert [kind for kind, _, _ in told(together)] == [
        "charge_scheduled",
        "activation_completed",
        "activation_rejected",
        "activation_rejected",
        "autopay_failed",
        "payment_received",
    ]
    assert told(together)[1][2].endswith("training offered on Módulo Inventario")
    assert raised(together) == raised(alone)
    assert [(kind, reference) for kind, reference, _ in raised(together)] == [
        ("payment", "F-2026-004512"),
        ("training", "MOD-INV"),
        ("upgrade", "req-a"),
    ]
    assert announced(together) == announced(alone)
    assert [kind for _, kind, _ in announced(together)] == ["training", "upgrade", "payment"]
    [charge] = [row for row in timeline if row["account_id"] == together and row["kind"] == "charge_scheduled"]
    assert charge["event_id"] == str(run[0].event_id)  # the first telling is the one kept


async def test_a_run_writes_its_entries_in_one_statement_without_reading_the_timeline(advisor):
    statements: list[str] = []

    def seen(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(" ".join(statement.split()))

    accounts = [account() for _ in range(20)]
    await advisor.deliver_batch([charge_scheduled(account_id) for account_id in accounts[:10]])
    event.listen(advisor.engine.sync_engine, "before_cursor_execute", seen)
    try:
        run = [activation_completed(a) for a in accounts[10:]] + [charge_scheduled(a) for a in accounts]
        assert await advisor.deliver_batch(run) == [Outcome.PROCESSED] * len(run)
    finally:
        event.remove(advisor.engine.sync_engine, "before_cursor_execute", seen)
    [written] = [statement for statement in statements if "timeline" in statement]
    assert written.startswith("INSERT INTO timeline")
    assert "ON CONFLICT" in written
    rows = await advisor.rows("timeline")
    assert len(rows) == 10 + 10 + 10  # the ten charges told before are not told again


async def test_an_unreadable_event_in_a_run_is_dead_lettered_and_the_rest_are_noted(advisor):
    accounts = [account() for _ in range(3)]
    broken = json.loads(encode(charge_scheduled(accounts[1])))
    del broken["payload"]["activation_id"]
    run: list[Envelope[Any] | bytes] = [
        charge_scheduled(accounts[0]),
        json.dumps(broken).encode(),
        charge_scheduled(accounts[2]),
    ]
    assert await advisor.deliver_batch(run) == [Outcome.PROCESSED, Outcome.DEAD_LETTERED, Outcome.PROCESSED]
    [letter] = advisor.dead_letters()
    assert letter["x-tienda-error-class"] == "PoisonMessage"
    noted = sorted(row["account_id"] for row in await advisor.rows("timeline"))
    assert noted == sorted([accounts[0], accounts[2]])


async def test_an_event_whose_note_fails_is_dead_lettered_alone_and_the_others_of_its_run_are_noted(
    advisor, monkeypatch
):
    accounts = [account() for _ in range(4)]
    doomed = accounts[2]
    summary = summaries.charge_summary

    def fails_for_one_request(event: Any) -> str:
        if event.request_id == "req-doomed":
            raise ValueError("a summary that cannot be written")
        return summary(event)

    monkeypatch.setattr(summaries, "charge_summary", fails_for_one_request)
    run = [charge_scheduled(account_id) for account_id in accounts]
    run[2] = new_envelope(
        run[2].payload.model_copy(update={"request_id": "req-doomed"}), account_id=doomed, producer="store"
    )
    outcomes = await advisor.deliver_batch(run)

    assert outcomes == [Outcome.PROCESSED, Outcome.PROCESSED, Outcome.DEAD_LETTERED, Outcome.PROCESSED]
    [letter] = advisor.dead_letters()
    assert letter["x-tienda-error-class"] == "ValueError"
    timeline = sorted(await advisor.rows("timeline"), key=lambda row: row["id"])
    assert [row["account_id"] for row in timeline] == [a for a in accounts if a != doomed]
