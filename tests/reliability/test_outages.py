"""The broker or the database goes away while messages flow, then comes back:
nothing lost, nothing doubled, the outbox drains to zero."""

import asyncio
import time

import pytest

from tests.reliability.conftest import contract_plans, postgres_database, publish_all, sqlite_database
from tests.reliability.streams import CartStream, outbox_backlog, processed, users_by_account
from tests.waiting import eventually
from tienda.billing.adapters.tables import charges
from tienda.contracts.topics import ACTIVATION_REQUESTS

pytestmark = [pytest.mark.broker, pytest.mark.slow]

OUTAGE_SECONDS = 5


async def test_a_broker_restart_while_messages_flow_loses_and_doubles_nothing(
    kafka, bootstrap_servers, start_worker, open_database, data_dir
):
    stream = CartStream(size=1500)
    first_half, second_half = stream.messages()[:750], stream.messages()[750:]
    store_url, billing_url = sqlite_database(data_dir, "store"), sqlite_database(data_dir, "billing")
    store_db, billing_db = open_database(store_url), open_database(billing_url)
    start_worker("store", store_url)
    start_worker("billing", billing_url)
    await contract_plans(bootstrap_servers, store_db, stream.account_ids)
    await publish_all(bootstrap_servers, ACTIVATION_REQUESTS.name, first_half)
    await eventually(lambda: processed(store_db, stream), what="the stream flowing")

    began = time.monotonic()
    await asyncio.to_thread(kafka.restart)
    await publish_all(bootstrap_servers, ACTIVATION_REQUESTS.name, second_half)

    async def all_done():
        return await processed(store_db, stream) == stream.size and await outbox_backlog(store_db) == 0

    await eventually(all_done, timeout=180, what="every cart processed and the outbox drained")
    print(f"recovered {time.monotonic() - began:.1f}s after the broker restart began")
    assert await users_by_account(store_db, stream) == stream.expected_users()

    async def charged():
        return await billing_db.count(charges, stream.mine(charges.c.account_id)) == stream.size

    await eventually(charged, timeout=120, what="one charge per cart in billing")


async def test_a_database_outage_under_load_is_retried_and_recovered_without_loss(
    bootstrap_servers, start_worker, open_database, postgres
):
    stream = CartStream(size=1500)
    url = postgres_database(postgres)
    store_db = open_database(url)
    store = start_worker("store", url)
    await contract_plans(bootstrap_servers, store_db, stream.account_ids)
    await publish_all(bootstrap_servers, ACTIVATION_REQUESTS.name, stream.messages())
    await eventually(lambda: processed(store_db, stream), what="the stream flowing")

    await asyncio.to_thread(postgres.stop, "fast")
    await asyncio.sleep(OUTAGE_SECONDS)  # the outage itself: the database stays down this long
    began = time.monotonic()
    await asyncio.to_thread(postgres.start)
    await store_db.engine.dispose()

    async def all_done():
        return await processed(store_db, stream) == stream.size and await outbox_backlog(store_db) == 0

    await eventually(all_done, timeout=180, what="every cart processed after the outage")
    print(f"caught up {time.monotonic() - began:.1f}s after PostgreSQL came back")
    assert await users_by_account(store_db, stream) == stream.expected_users()
    metrics = store.metrics()
    print(f"retries: {metrics['tienda_messages_retried_total']:.0f}")
    assert metrics["tienda_messages_retried_total"] > 0
    assert metrics["tienda_messages_dead_lettered_total"] == 0
