"""The store's read process: the store worker as a real process on the real broker answers its read
endpoints from a process of its own, forwards the rest to the worker, starts it again when it dies
and takes it with it when the worker is killed."""

import asyncio
import json
import os
import signal
import socket
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import TOKEN
from tests.kafka_client import publish
from tests.samples import account
from tests.samples_store import plan_contracted
from tests.waiting import eventually
from tienda.contracts.topics import ACCOUNT_PLANS
from tienda.devkit.workers import WorkerProcess, worker_env
from tienda.messaging.connection import connection_of
from tienda.messaging.provisioning import ensure_topics

pytestmark = pytest.mark.broker

CART = {"payment_mode": "online", "lines": [{"sku": "USR-EXTRA", "quantity": 2}]}


def children(pid: int | None) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def quote(worker: WorkerProcess, account_id: str) -> dict:
    request = urllib.request.Request(
        f"{worker.url}/accounts/{account_id}/cart/quote",
        data=json.dumps(CART).encode(),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def started_store(bootstrap_servers: str) -> WorkerProcess:
    asyncio.run(ensure_topics(connection_of(bootstrap_servers)))
    data_dir = Path(tempfile.mkdtemp(prefix="tienda-reads-"))
    env = worker_env(
        "store",
        bootstrap_servers,
        f"sqlite+aiosqlite:///{data_dir / 'store.db'}",
        api_tokens=f'{{"{TOKEN}": ["*"]}}',
        log_json="false",
    )
    worker = WorkerProcess("store", env, data_dir / "store.log")
    worker.start(timeout=90)
    return worker


@pytest.fixture(scope="module")
def store(bootstrap_servers) -> Iterator[WorkerProcess]:
    worker = started_store(bootstrap_servers)
    yield worker
    worker.stop()
    print(f"--- store log tail ---\n{worker.log_tail(20)}")


@pytest.fixture
def doomed_store(bootstrap_servers) -> Iterator[WorkerProcess]:
    """A store worker of its own for a test that kills it."""
    worker = started_store(bootstrap_servers)
    yield worker
    worker.stop()


async def a_contracted_account(bootstrap_servers, store: WorkerProcess) -> str:
    account_id = account()
    await publish(bootstrap_servers, ACCOUNT_PLANS.name, plan_contracted(account_id))

    async def priced():
        return quote(store, account_id)["accepted"]

    await eventually(priced, 30, "the store quoting the account's cart")
    return account_id


async def test_the_read_process_answers_quotes_and_forwards_health_and_metrics_to_the_worker(bootstrap_servers, store):
    (reader,) = children(store.pid)
    account_id = await a_contracted_account(bootstrap_servers, store)
    assert quote(store, account_id)["account_id"] == account_id
    assert store.readiness()[0] == 200
    assert store.metrics()["tienda_messages_processed_total"] >= 1, "the worker's counters, forwarded"
    with urllib.request.urlopen(f"{store.url}/openapi.json", timeout=5) as response:
        assert "/accounts/{account_id}/cart/quote" in json.loads(response.read())["paths"]
    assert alive(reader)


async def test_a_read_process_that_dies_is_started_again(bootstrap_servers, store):
    account_id = await a_contracted_account(bootstrap_servers, store)
    (reader,) = children(store.pid)
    os.kill(reader, signal.SIGKILL)

    async def another_reader_answers():
        others = [pid for pid in children(store.pid) if pid != reader and alive(pid)]
        if not others:
            return False
        try:
            return quote(store, account_id)["accepted"]
        except OSError:
            return False

    await eventually(another_reader_answers, 60, "a new read process answering quotes")


async def test_a_killed_worker_takes_its_read_process_with_it(doomed_store):
    (reader,) = children(doomed_store.pid)
    doomed_store.kill()

    async def reader_gone():
        return not alive(reader) and not listening(doomed_store.http_port)

    await eventually(reader_gone, 10, "the read process gone and the port free")
