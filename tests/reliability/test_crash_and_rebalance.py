"""A worker can die at any instruction: SIGKILL mid-stream, restart, and every effect
exists exactly once; every expected message was published."""

import pytest
from sqlalchemy import func, select

from tests.reliability.conftest import contract_plans, postgres_database, publish_all, sqlite_database
from tests.reliability.streams import CartStream, outbox_backlog, processed, users_by_account
from tests.waiting import eventually
from tienda.billing.adapters.tables import charges
from tienda.contracts.topics import ACTIVATION_REQUESTS

pytestmark = [pytest.mark.broker, pytest.mark.slow]


async def test_a_store_killed_mid_stream_and_restarted_activates_every_cart_exactly_once(
    bootstrap_servers, start_worker, open_database, data_dir
):
    stream = CartStream(size=2000)
    store_url, billing_url = sqlite_database(data_dir, "store"), sqlite_database(data_dir, "billing")
    store_db, billing_db = open_database(store_url), open_database(billing_url)
    store = start_worker("store", store_url)
    start_worker("billing", billing_url)
    await contract_plans(bootstrap_servers, store_db, stream.account_ids)
    await publish_all(bootstrap_servers, ACTIVATION_REQUESTS.name, stream.messages())

    killed_at = await eventually(lambda: _at_least(store_db, stream, 300), timeout=60, what="300 carts processed")
    store.kill()
    start_worker("store", store_url, name="store-restarted")

    await eventually(lambda: _all_done(store_db, stream), timeout=120, what="all 2,000 carts processed")
    print(f"killed after {killed_at} of {stream.size} carts")
    assert await users_by_account(store_db, stream) == stream.expected_users()
    assert await eventually(lambda: _drained(store_db), what="outbox drained") is True
    # ChargeScheduled may reach the wire twice (published, then the crash hit before the row
    # was marked sent): billing's inbox removes those duplicates, so each activation has one charge.
    await eventually(lambda: _charged(billing_db, stream), timeout=60, what="a charge per cart in billing")
    per_activation = await billing_db.rows(
        select(charges.c.activation_id, func.count().label("lines"))
        .where(stream.mine(charges.c.account_id))
        .group_by(charges.c.activation_id)
    )
    assert len(per_activation) == stream.size
    assert {row["lines"] for row in per_activation} == {1}


async def test_two_store_instances_survive_one_being_killed_mid_stream(
    bootstrap_servers, start_worker, open_database, postgres
):
    stream = CartStream(size=2000)
    url = postgres_database(postgres)
    store_db = open_database(url)
    first = start_worker("store", url, name="store-a")
    start_worker("store", url, name="store-b")
    await contract_plans(bootstrap_servers, store_db, stream.account_ids)
    await publish_all(bootstrap_servers, ACTIVATION_REQUESTS.name, stream.messages())

    await eventually(lambda: _at_least(store_db, stream, 400), timeout=60, what="400 carts processed")
    first.kill()

    await eventually(lambda: _all_done(store_db, stream), timeout=120, what="all carts processed after the rebalance")
    assert await users_by_account(store_db, stream) == stream.expected_users()
    assert await eventually(lambda: _drained(store_db), what="outbox drained") is True


async def _at_least(store_db, stream, count):
    done = await processed(store_db, stream)
    return done if done >= count else 0


async def _all_done(store_db, stream):
    return await processed(store_db, stream) >= stream.size


async def _drained(store_db):
    return await outbox_backlog(store_db) == 0


async def _charged(billing_db, stream):
    return await billing_db.count(charges, stream.mine(charges.c.account_id)) >= stream.size
