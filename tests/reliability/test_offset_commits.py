"""Offsets are committed at most every COMMIT_INTERVAL, and at once when the worker stops:
a graceful stop leaves nothing for the next start to read again."""

import pytest

from tests.reliability.conftest import consumer_lag, contract_plans, publish_all, sqlite_database
from tests.reliability.streams import CartStream, processed
from tests.waiting import eventually
from tienda.contracts.topics import ACTIVATION_REQUESTS

pytestmark = [pytest.mark.broker, pytest.mark.slow]


async def test_a_worker_stopped_gracefully_commits_every_position_it_handled(
    bootstrap_servers, start_worker, open_database, data_dir
):
    stream = CartStream(size=300)
    url = sqlite_database(data_dir, "store")
    store_db = open_database(url)
    # Ten minutes between commits: only the stop can commit what the carts moved past.
    store = start_worker("store", url, commit_interval="600")
    await contract_plans(bootstrap_servers, store_db, stream.account_ids)
    await publish_all(bootstrap_servers, ACTIVATION_REQUESTS.name, stream.messages())

    async def all_processed() -> bool:
        return await processed(store_db, stream) == stream.size

    await eventually(all_processed, timeout=60, what="300 carts processed")
    behind = await consumer_lag(bootstrap_servers, "tienda-store", ACTIVATION_REQUESTS.name)
    assert store.stop() == 0
    assert behind != 0, "every position was committed before the stop: the interval did not hold them"
    assert await consumer_lag(bootstrap_servers, "tienda-store", ACTIVATION_REQUESTS.name) == 0
