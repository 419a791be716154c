"""The event loop is never held long: the watchdog measures it, and fails a test that holds it."""

import asyncio
import time

import pytest

from tests.fakes import FakePublisher
from tests.harness import harness
from tests.samples import account, activation_requested
from tests.samples_store import plan_contracted
from tienda.messaging.counters import Counters
from tienda.messaging.loop_lag import loop_held_at_most
from tienda.messaging.monitoring import Monitoring
from tienda.store.bootstrap import definition
from tienda.store.config import StoreSettings


async def test_the_watchdog_fails_a_test_that_holds_the_loop_on_purpose():
    with pytest.raises(AssertionError, match=r"the event loop was held for \d+ ms \(at most 100 ms allowed\)"):
        async with loop_held_at_most(0.1):
            time.sleep(0.3)


async def test_the_watchdog_lets_a_block_that_awaits_pass():
    async with loop_held_at_most(0.1) as watchdog:
        for _ in range(20):
            time.sleep(0.005)
            await asyncio.sleep(0)
    assert watchdog.worst < 0.1


async def test_a_batch_of_a_hundred_carts_never_holds_the_loop_long(engine):
    store = await harness(definition(StoreSettings()), engine)
    accounts = [account() for _ in range(10)]
    for account_id in accounts:
        await store.deliver(plan_contracted(account_id))
    carts = [activation_requested(accounts[n % 10], ("USR-EXTRA", 1)) for n in range(100)]
    async with loop_held_at_most(0.1):
        outcomes = await store.deliver_batch(carts)
    assert {outcome.value for outcome in outcomes} == {"processed"}


def test_the_lag_is_a_prometheus_histogram_of_the_worker():
    monitoring = Monitoring("store", FakePublisher(), Counters())
    monitoring.observe_loop_lag(0.004)
    exposed = monitoring.render().decode()
    assert 'tienda_event_loop_lag_seconds_bucket{le="0.005",service="store"} 1.0' in exposed
    assert 'tienda_event_loop_lag_seconds_count{service="store"} 1.0' in exposed
