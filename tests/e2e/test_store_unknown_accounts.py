"""Carts whose plan never comes are refused as unknown_account after the wait, by the store
worker's scheduler, on the real broker. The worker is given a wait of a few seconds and a short
scheduler interval through its environment (TIENDA_STORE_UNKNOWN_ACCOUNT_WAIT_SECONDS,
TIENDA_STORE_SCHEDULER_INTERVAL_SECONDS); the test waits on the refusals, it never sleeps."""

import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.conftest import TOKEN
from tests.e2e.test_store_order import Outcomes, publish
from tests.kafka_client import TopicReader
from tests.samples import account, activation_requested
from tests.waiting import eventually
from tienda.contracts.topics import STORE_EVENTS
from tienda.devkit.workers import WorkerProcess, worker_env

pytestmark = pytest.mark.broker

CARTS = 300
WAIT_SECONDS = 4


@pytest.fixture(scope="module")
def store(bootstrap_servers: str) -> Iterator[WorkerProcess]:
    """The store worker alone, waiting WAIT_SECONDS for a plan and looking twice a second."""
    data_dir = Path(tempfile.mkdtemp(prefix="tienda-e2e-unknown-"))
    env = worker_env(
        "store",
        bootstrap_servers,
        f"sqlite+aiosqlite:///{data_dir / 'store'}.db",
        api_tokens=f'{{"{TOKEN}": ["*"]}}',
        log_json="false",
        unknown_account_wait_seconds=str(WAIT_SECONDS),
        scheduler_interval_seconds="0.5",
    )
    worker = WorkerProcess("store", env, data_dir / "store.log")
    worker.start()
    yield worker
    worker.stop()
    print(f"--- store log tail ---\n{worker.log_tail(15)}")


async def test_300_carts_whose_plan_never_comes_are_refused_only_after_the_wait(bootstrap_servers, store):
    accounts = [account() for _ in range(CARTS)]
    carts = [activation_requested(account_id, ("USR-EXTRA", 1)) for account_id in accounts]
    published_from = datetime.now(UTC)
    started = time.monotonic()
    async with Outcomes(bootstrap_servers) as outcomes, TopicReader(bootstrap_servers, STORE_EVENTS.name) as events:
        publish(bootstrap_servers, carts)
        assert set((await outcomes.handled(carts)).values()) == {"processed"}  # waiting, not refused on arrival

        async def all_refused() -> list[dict] | None:
            await events.poll()
            refused = [m for m in events.messages(message_type="ActivationRejected") if m["account_id"] in accounts]
            return refused if len(refused) >= CARTS else None

        refused = await eventually(all_refused, timeout=120, what=f"{CARTS} carts refused after the wait")
        activated = [m for m in events.messages(message_type="ActivationCompleted") if m["account_id"] in accounts]
    print(f"{CARTS} carts without a plan: all refused {time.monotonic() - started:.1f}s after the first was published")
    assert activated == []
    assert sorted(m["causation_id"] for m in refused) == sorted(str(cart.event_id) for cart in carts)
    assert {tuple((r["line"], r["code"]) for r in m["payload"]["reasons"]) for m in refused} == {
        ((None, "unknown_account"),)
    }
    earliest = min(datetime.fromisoformat(m["occurred_at"]) for m in refused)
    assert earliest >= published_from + timedelta(seconds=WAIT_SECONDS)
    assert store.get(f"/accounts/{accounts[0]}/plan", TOKEN)["waiting_for_plan"] == []
