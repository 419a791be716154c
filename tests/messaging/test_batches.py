"""Many records in one transaction: the same effects, outcomes and dead letters as one by one."""

import pytest

from tests.harness import Harness, harness
from tests.samples import account, activation_requested
from tests.samples_store import plan_contracted
from tienda.messaging.processor import Batched, Outcome
from tienda.store.bootstrap import definition
from tienda.store.config import StoreSettings
from tienda.store.service_layer import carts


@pytest.fixture
async def store(engine) -> Harness:
    return await harness(definition(StoreSettings()), engine)


async def test_a_batch_commits_every_effect_once_and_sees_duplicates_inside_it(store):
    account_id = account()
    plan = plan_contracted(account_id)
    first, second = (
        activation_requested(account_id, ("USR-EXTRA", 2)),
        activation_requested(account_id, ("USR-EXTRA", 3)),
    )
    outcomes = await store.deliver_batch([plan, first, second, first])
    assert outcomes == [Outcome.PROCESSED, Outcome.PROCESSED, Outcome.PROCESSED, Outcome.DEDUPLICATED]
    assert len(await store.rows("activations")) == 2
    assert [row["quantity"] for row in await store.rows("entitlements") if row["resource"] == "users"] == [5]
    assert (store.counters.processed, store.counters.deduplicated, store.counters.consumed) == (3, 1, 4)


async def test_poison_in_a_batch_is_dead_lettered_and_the_rest_processed(store):
    account_id = account()
    outcomes = await store.deliver_batch(
        [plan_contracted(account_id), b"{not json", activation_requested(account_id, ("DTE-100", 1))]
    )
    assert outcomes == [Outcome.PROCESSED, Outcome.DEAD_LETTERED, Outcome.PROCESSED]
    assert len(store.dead_letters()) == 1


async def test_a_handler_failure_rolls_the_batch_back_and_each_message_is_handled_alone(store, monkeypatch):
    account_id = account()
    boom = activation_requested(account_id, ("USR-EXTRA", 1))
    real = store.definition.consumer.handlers["ActivationRequested"]

    async def fails_on_one(envelope, uow):
        if envelope.event_id == boom.event_id:
            raise ValueError("a bug on this one message")
        await real(envelope, uow)

    monkeypatch.setitem(store.definition.consumer.handlers, "ActivationRequested", fails_on_one)
    good = activation_requested(account_id, ("USR-EXTRA", 4))
    outcomes = await store.deliver_batch([plan_contracted(account_id), boom, good])
    assert outcomes == [Outcome.PROCESSED, Outcome.DEAD_LETTERED, Outcome.PROCESSED]
    assert [row["quantity"] for row in await store.rows("entitlements") if row["resource"] == "users"] == [4]
    assert "a bug on this one message" in store.dead_letters()[0]["x-tienda-error-message"]


async def test_a_rejected_cart_in_a_batch_is_counted_as_rejected(store):
    account_id = account()
    outcomes = await store.deliver_batch([plan_contracted(account_id), activation_requested(account_id, ("NOPE-1", 1))])
    assert outcomes == [Outcome.PROCESSED, Outcome.REJECTED]
    assert store.counters.rejected == 1


@pytest.fixture
def batched(store, monkeypatch) -> list[int]:
    """The store's cart handler as a batched one (each cart in turn); the size of each run it got."""
    single, runs = store.definition.consumer.handlers["ActivationRequested"], []

    async def carts(envelopes, uow):
        runs.append(len(envelopes))
        for envelope in envelopes:
            uow.rejected = False
            await single(envelope, uow)
            if uow.rejected:
                uow.mark_rejected(envelope)

    monkeypatch.setitem(store.definition.consumer.handlers, "ActivationRequested", Batched(carts))
    return runs


async def test_a_batched_handler_gets_each_run_of_its_type_in_order_once(store, batched):
    first, second = account(), account()
    carts = [activation_requested(first, ("USR-EXTRA", n)) for n in (1, 2, 3)]
    late = activation_requested(second, ("USR-EXTRA", 5))
    outcomes = await store.deliver_batch([plan_contracted(first), *carts, carts[0], plan_contracted(second), late])
    assert outcomes == [Outcome.PROCESSED] * 4 + [Outcome.DEDUPLICATED] + [Outcome.PROCESSED] * 2
    assert batched == [3, 1]  # the duplicate is left out; the plan between ends the run
    users = {row["account_id"]: row["quantity"] for row in await store.rows("entitlements")}
    assert (users[first], users[second]) == (6, 5)


async def test_a_batched_handler_refuses_one_message_of_its_run(store, batched):
    account_id = account()
    good, unknown_sku = (
        activation_requested(account_id, ("USR-EXTRA", 1)),
        activation_requested(account_id, ("NADA", 1)),
    )
    outcomes = await store.deliver_batch([plan_contracted(account_id), good, unknown_sku])
    assert outcomes == [Outcome.PROCESSED, Outcome.PROCESSED, Outcome.REJECTED]
    assert (batched, store.counters.rejected) == ([2], 1)


async def test_a_batched_handler_alone_handles_the_retry_path_one_message_at_a_time(store, batched, monkeypatch):
    account_id = account()
    await store.deliver(plan_contracted(account_id))
    assert await store.deliver(activation_requested(account_id, ("USR-EXTRA", 2))) == Outcome.PROCESSED
    assert batched == [1]


async def test_a_failure_inside_the_stores_run_of_carts_dead_letters_that_cart_and_keeps_the_others(store, monkeypatch):
    account_id = account()
    await store.deliver(plan_contracted(account_id))
    real = carts.decide

    def fails_on_three_users(items, *rest):
        if items[0].quantity == 3:
            raise ValueError("a bug on this one cart")
        return real(items, *rest)

    monkeypatch.setattr(carts, "decide", fails_on_three_users)
    run = [activation_requested(account_id, ("USR-EXTRA", n)) for n in (1, 3, 2)]
    outcomes = await store.deliver_batch(run)
    assert outcomes == [Outcome.PROCESSED, Outcome.DEAD_LETTERED, Outcome.PROCESSED]
    assert [row["quantity"] for row in await store.rows("entitlements") if row["resource"] == "users"] == [3]
    assert len(await store.rows("activations")) == 2
    assert "a bug on this one cart" in store.dead_letters()[0]["x-tienda-error-message"]
