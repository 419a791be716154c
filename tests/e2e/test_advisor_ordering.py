"""Order across topics and producers, for the advisor (issue 16): each pair whose order is not
guaranteed is published in both orders to the advisor worker, a real process on the real broker,
and both orders end in the same state. The second message of a pair is published only once the
advisor has handled the first, so each order really happens. README, "Ordering", says why the
remaining pair (an update before its request) cannot happen and what the advisor does if it does."""

import asyncio
import json
import tempfile
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.advisor.samples import (
    INVENTORY,
    MONDAY_MORNING,
    USERS,
    activation_completed,
    at,
    autopay_failed,
    charge_scheduled,
    executive_assigned,
    reclassified_commercial,
    request_submitted,
    request_updated,
)
from tests.kafka_client import TopicReader, publish
from tests.samples import account, payment_received
from tests.waiting import eventually
from tienda.contracts.envelope import Envelope, new_envelope
from tienda.contracts.messages.advisor import Executive, RequestKind, RequestStatus
from tienda.contracts.messages.billing import OrderCreated
from tienda.contracts.topics import (
    ADVISOR_EVENTS,
    ADVISOR_REQUESTS,
    BILLING_EVENTS,
    PAYMENTS_RECEIVED,
    STORE_EVENTS,
    dead_letter_topic,
)
from tienda.devkit.workers import WorkerProcess, worker_env
from tienda.messaging.provisioning import ensure_topics

pytestmark = pytest.mark.broker

TOKEN = "ordering-token"
ROSTER = [{"id": "ej-orden-paula", "name": "Paula Fuentes", "email": "paula.fuentes@tienda.cl"}]
AT_THE_LIMIT = "No puedo cargar más trabajadores, me dice que llegué al límite. ¿Cómo lo solucionamos?"


@pytest.fixture(scope="module")
def advisor(bootstrap_servers: str) -> Iterator[WorkerProcess]:
    """The advisor worker alone, as a process, with a rotation of one executive."""
    asyncio.run(ensure_topics(bootstrap_servers))
    data_dir = Path(tempfile.mkdtemp(prefix="tienda-advisor-ordering-"))
    env = worker_env(
        "advisor",
        bootstrap_servers,
        f"sqlite+aiosqlite:///{data_dir / 'advisor.db'}",
        api_tokens=json.dumps({TOKEN: ["*"]}),
        log_json="false",
        executives=json.dumps(ROSTER),
    )
    worker = WorkerProcess("advisor", env, data_dir / "advisor.log")
    worker.start()
    yield worker
    worker.stop()
    print(f"--- advisor log tail ---\n{worker.log_tail(15)}")


def crm_executive() -> Executive:
    return Executive(executive_id=f"ej-{uuid.uuid4().hex[:8]}", name="Ignacio Pérez", email="ignacio.perez@tienda.cl")


async def seen(probe: Callable[[], Any], what: str) -> Any:
    async def check() -> Any:
        return probe()

    return await eventually(check, what=what)


def requests_of(advisor: WorkerProcess, account_id: str) -> list[dict[str, Any]]:
    return advisor.get(f"/accounts/{account_id}/requests", TOKEN)["requests"]


def timeline_of(advisor: WorkerProcess, account_id: str) -> dict[str, Any]:
    return advisor.get(f"/accounts/{account_id}/timeline", TOKEN)


async def assigned_by_crm(
    bootstrap_servers: str, advisor: WorkerProcess, account_id: str, executive: Executive
) -> None:
    """The CRM names the account's executive; back once the advisor has handled it."""
    await publish(bootstrap_servers, ADVISOR_REQUESTS.name, executive_assigned(account_id, executive))
    await seen(
        lambda: "executive_assigned" in [e["kind"] for e in timeline_of(advisor, account_id)["timeline"]],
        "the CRM's assignment handled",
    )


def request_state(request: dict[str, Any]) -> dict[str, Any]:
    """What a request's end state is, without what differs by account."""
    keep = ("request_id", "status", "executive_id", "first_response_due_at", "first_response_at", "redirect", "triage")
    return {name: request[name] for name in keep}


def follow_up_state(follow_up: dict[str, Any]) -> tuple[Any, ...]:
    return (
        follow_up["kind"],
        follow_up["reference"],
        follow_up["status"],
        follow_up["executive_id"],
        follow_up["due_at"],
    )


async def in_both_orders(
    first: Callable[[str], Awaitable[None]],
    second: Callable[[str], Awaitable[None]],
    end_state: Callable[[str], Any],
) -> tuple[Any, Any]:
    """Run the pair first-then-second on one account and second-then-first on another; both end states."""
    ordered, reversed_ = account(), account()
    await first(ordered)
    await second(ordered)
    await second(reversed_)
    await first(reversed_)
    return end_state(ordered), end_state(reversed_)


async def test_a_crm_assignment_before_or_after_a_request_leaves_it_with_the_crms_executive(bootstrap_servers, advisor):
    executive = crm_executive()

    async def assign(account_id: str) -> None:
        await assigned_by_crm(bootstrap_servers, advisor, account_id, executive)

    async def submit(account_id: str) -> None:
        await publish(bootstrap_servers, ADVISOR_REQUESTS.name, request_submitted(account_id, request_id="sol-orden"))
        await seen(lambda: requests_of(advisor, account_id), "the request stored")

    def end_state(account_id: str) -> Any:
        return [request_state(request) for request in requests_of(advisor, account_id)]

    ordered, reversed_ = await in_both_orders(assign, submit, end_state)
    assert ordered == reversed_
    [request] = ordered
    assert (request["status"], request["executive_id"]) == ("open", executive.executive_id)
    queue = advisor.get(f"/executives/{executive.executive_id}/queue", TOKEN)["queue"]
    assert len(queue) == 2


async def test_a_crm_assignment_before_or_after_the_events_that_raise_follow_ups_gives_them_to_its_executive(
    bootstrap_servers, advisor
):
    executive = crm_executive()

    async def assign(account_id: str) -> None:
        await assigned_by_crm(bootstrap_servers, advisor, account_id, executive)

    async def raise_follow_ups(account_id: str) -> None:
        await publish(bootstrap_servers, BILLING_EVENTS.name, autopay_failed(account_id, "F-2026-007001", 119_000))
        await publish(bootstrap_servers, STORE_EVENTS.name, activation_completed(account_id, USERS, INVENTORY))
        await seen(lambda: len(timeline_of(advisor, account_id)["follow_ups"]) == 2, "both follow-ups raised")

    def end_state(account_id: str) -> Any:
        return sorted(follow_up_state(follow_up) for follow_up in timeline_of(advisor, account_id)["follow_ups"])

    ordered, reversed_ = await in_both_orders(assign, raise_follow_ups, end_state)
    assert ordered == reversed_
    assert [(kind, executive_id) for kind, _, _, executive_id, _ in ordered] == [
        ("payment", executive.executive_id),
        ("training", executive.executive_id),
    ]


async def test_a_reclassification_before_or_after_a_crm_assignment_reopens_the_request_with_the_crms_executive(
    bootstrap_servers, advisor
):
    executive = crm_executive()
    corrected_at = MONDAY_MORNING + timedelta(hours=2)

    async def redirected(account_id: str) -> None:
        submitted = request_submitted(account_id, AT_THE_LIMIT, RequestKind.OTHER_COMMERCIAL, request_id="sol-limite")
        await publish(bootstrap_servers, ADVISOR_REQUESTS.name, submitted)
        await seen(lambda: requests_of(advisor, account_id), "the request redirected")

    async def assign(account_id: str) -> None:
        await assigned_by_crm(bootstrap_servers, advisor, account_id, executive)

    async def reclassify(account_id: str) -> None:
        correction = reclassified_commercial(account_id, "sol-limite", corrected_at, executive_id="ej-revisora")
        await publish(bootstrap_servers, ADVISOR_REQUESTS.name, correction)
        await seen(lambda: requests_of(advisor, account_id)[0]["status"] == "open", "the request reopened")

    def end_state(account_id: str) -> Any:
        return [request_state(request) for request in requests_of(advisor, account_id)]

    ordered, reversed_ = account(), account()
    for account_id, steps in ((ordered, (assign, reclassify)), (reversed_, (reclassify, assign))):
        await redirected(account_id)
        for step in steps:
            await step(account_id)
    assert end_state(ordered) == end_state(reversed_)
    [request] = end_state(ordered)
    assert (request["status"], request["executive_id"], request["redirect"]["reason"]) == (
        "open",
        executive.executive_id,
        "fault_described",
    )
    # Counted from the correction, Monday 12:00 in Santiago: Tuesday 11:00.
    assert request["first_response_due_at"] == "2026-03-17T14:00:00+00:00"


def commercial_history(account_id: str) -> list[tuple[str, Envelope[Any]]]:
    """One sale as the advisor hears of it from three topics, each event at its own moment."""
    moment = MONDAY_MORNING
    order = OrderCreated.model_validate(
        json.loads((Path(__file__).resolve().parents[2] / "examples/messages/OrderCreated.json").read_text())
    )
    events = [
        (STORE_EVENTS.name, charge_scheduled(account_id)),
        (STORE_EVENTS.name, activation_completed(account_id, USERS)),
        (BILLING_EVENTS.name, new_envelope(order, account_id=account_id, producer="billing")),
        (PAYMENTS_RECEIVED.name, payment_received(account_id, order.order_id, order.total_clp, payment_id="wp-1")),
    ]
    return [(topic, at(envelope, moment + timedelta(minutes=n))) for n, (topic, envelope) in enumerate(events)]


async def test_the_timeline_reads_the_same_whatever_order_store_billing_and_payments_arrive_in(
    bootstrap_servers, advisor
):
    async def arrive(account_id: str, events: list[tuple[str, Envelope[Any]]]) -> None:
        for count, (topic, envelope) in enumerate(events, start=1):
            await publish(bootstrap_servers, topic, envelope)
            entries = f"{count} timeline entries"
            await seen(lambda count=count: len(timeline_of(advisor, account_id)["timeline"]) == count, entries)

    ordered, reversed_ = account(), account()
    await arrive(ordered, commercial_history(ordered))
    await arrive(reversed_, list(reversed(commercial_history(reversed_))))

    def entries(account_id: str) -> list[tuple[str, str, str]]:
        timeline = timeline_of(advisor, account_id)["timeline"]
        return [(entry["kind"], entry["summary"], entry["occurred_at"]) for entry in timeline]

    assert entries(ordered) == entries(reversed_)
    assert [kind for kind, _, _ in entries(ordered)] == [
        "payment_received",
        "order_created",
        "activation_completed",
        "charge_scheduled",
    ]


async def test_an_update_of_a_request_the_advisor_has_not_seen_is_dead_lettered_with_the_reason(
    bootstrap_servers, advisor
):
    """The order the executive's tools cannot produce (README, "Ordering"): if a producer does, the
    update is set aside with its reason, never applied to a later request of the same id."""
    account_id = account()
    early = request_updated(account_id, "sol-adelantada", RequestStatus.IN_PROGRESS)
    await publish(bootstrap_servers, ADVISOR_REQUESTS.name, early)
    dead_letters = dead_letter_topic("advisor").name
    async with TopicReader(bootstrap_servers, dead_letters) as letters:

        async def set_aside() -> list[dict[str, str]]:
            await letters.poll()
            return [
                headers
                for record, headers in zip(letters.records, letters.headers(), strict=True)
                if record.key == account_id.encode()
            ]

        [headers] = await eventually(set_aside, what=f"the early update on {dead_letters}")
    assert headers["x-tienda-error-class"] == "UnresolvableReference"
    assert "sol-adelantada" in headers["x-tienda-error-message"]
    await publish(bootstrap_servers, ADVISOR_REQUESTS.name, request_submitted(account_id, request_id="sol-adelantada"))
    [request] = await seen(lambda: requests_of(advisor, account_id), "the request stored")
    assert (request["status"], request["first_response_at"]) == ("open", None)
    async with TopicReader(bootstrap_servers, ADVISOR_EVENTS.name) as events:

        async def announced() -> list[dict[str, Any]]:
            await events.poll()
            return events.messages(account_id, "CommercialRequestAssigned")

        await eventually(announced, what="the request announced")
