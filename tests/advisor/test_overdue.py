"""A request without a first response by its due time raises one alert on the operations topic."""

import asyncio
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from tests.advisor.samples import request_submitted, request_updated, settings
from tests.harness import Harness, harness
from tests.samples import account
from tests.waiting import eventually
from tienda.advisor.bootstrap import definition, policy
from tienda.advisor.service_layer.handlers import raise_overdue_alerts
from tienda.contracts.messages.advisor import RequestStatus
from tienda.messaging.database import session_factory
from tienda.messaging.unit_of_work import UnitOfWork

POLICY = policy(settings())
# Submitted Monday 16 March 2026 10:00 in Santiago; 8 business hours: due Monday 18:00 (21:00 UTC).
DUE = datetime(2026, 3, 16, 21, 0, tzinfo=UTC)


@pytest.fixture
async def advisor(engine) -> Harness:
    return await harness(definition(settings()), engine)


def unit_of_work(advisor: Harness) -> UnitOfWork:
    return UnitOfWork(session_factory(advisor.engine), advisor.definition.tables, "advisor")


async def check(advisor: Harness, now: datetime) -> int:
    async with unit_of_work(advisor) as uow:
        raised = await raise_overdue_alerts(uow, now, POLICY)
        await uow.commit()
    return raised


async def test_an_unanswered_request_raises_an_alert_once_when_overdue(advisor):
    account_id = account()
    await advisor.deliver(request_submitted(account_id, request_id="sol-42"))
    assert await check(advisor, DUE - timedelta(seconds=1)) == 0
    assert await check(advisor, DUE + timedelta(minutes=5)) == 1
    assert await check(advisor, DUE + timedelta(days=3)) == 0
    [alert] = [message for message in await advisor.relay() if message["type"] == "OperationsAlert"]
    assert alert["account_id"] == account_id
    payload = alert["payload"]
    assert (payload["kind"], payload["severity"], payload["service"]) == ("request_overdue", "warning", "advisor")
    assert payload["details"]["request_id"] == "sol-42"
    assert payload["details"]["executive_id"] == "ej-paula"
    assert "2026-03-16 18:00 Santiago time" in payload["summary"]


async def test_a_request_answered_in_time_raises_no_alert(advisor):
    account_id = account()
    await advisor.deliver(request_submitted(account_id, request_id="sol-43"))
    await advisor.deliver(request_updated(account_id, "sol-43", RequestStatus.IN_PROGRESS, occurred_at=DUE))
    assert await check(advisor, DUE + timedelta(days=1)) == 0


async def test_a_redirected_request_is_never_overdue(advisor):
    await advisor.deliver(request_submitted(account(), "No puedo ingresar al sistema", request_id="sol-44"))
    assert await check(advisor, DUE + timedelta(days=30)) == 0


async def test_the_worker_checks_for_overdue_requests_with_its_clock_and_interval(engine):
    clock_read = asyncio.Event()

    def clock() -> datetime:
        clock_read.set()
        return DUE + timedelta(hours=1)

    worker = definition(settings(overdue_check_seconds=0.01), clock=clock)
    advisor = await harness(worker, engine)
    [scheduler] = worker.background
    runtime = SimpleNamespace(unit_of_work=advisor.unit_of_work, leads=lambda: True)
    task = asyncio.create_task(scheduler(runtime))  # type: ignore[arg-type]
    try:
        await asyncio.wait_for(clock_read.wait(), 5)  # the first check ran before the request existed
        await advisor.deliver(request_submitted(account(), request_id="sol-45"))

        async def alerted():
            return [row for row in await advisor.rows("requests") if row["overdue_alerted_at"]]

        # found by a later round: with the default interval (60 s) it would not come within 5 s
        await eventually(alerted, timeout=5, what="the overdue request marked as alerted")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    [row] = await advisor.rows("requests")
    assert row["overdue_alerted_at"] is not None
    assert [m["payload"]["kind"] for m in await advisor.relay() if m["type"] == "OperationsAlert"] == [
        "request_overdue"
    ]


async def test_a_standby_replica_raises_no_overdue_alert(engine):
    """Only the replica that relays the outbox runs the check; another one stays quiet."""
    worker = definition(settings(overdue_check_seconds=0.01), clock=lambda: DUE + timedelta(hours=1))
    advisor = await harness(worker, engine)
    await advisor.deliver(request_submitted(account(), request_id="sol-46"))
    [scheduler] = worker.background
    rounds = 0

    def standby() -> bool:
        nonlocal rounds
        rounds += 1
        return False

    task = asyncio.create_task(scheduler(SimpleNamespace(unit_of_work=advisor.unit_of_work, leads=standby)))  # type: ignore[arg-type]
    try:
        await eventually(lambda: asyncio.sleep(0, rounds >= 5), timeout=5, what="five rounds as a standby")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert [row for row in await advisor.rows("requests") if row["overdue_alerted_at"]] == []
