"""Each consumed record has exactly one effect or one dead letter (store's handlers, real DBs)."""

import json

import pytest
from sqlalchemy.exc import OperationalError

from tests.advisor.samples import charge_scheduled
from tests.harness import Harness, harness
from tests.samples import account, activation_requested, as_dict
from tests.samples_store import plan_contracted
from tienda.messaging.dead_letters import redact_card_numbers
from tienda.messaging.errors import is_transient
from tienda.messaging.processor import Outcome
from tienda.store.bootstrap import definition
from tienda.store.config import StoreSettings


@pytest.fixture
async def store(engine) -> Harness:
    return await harness(definition(StoreSettings()), engine)


async def test_a_message_is_processed_once_and_its_duplicate_has_no_effect(store):
    envelope = activation_requested(account(), ("USR-EXTRA", 3))
    await store.deliver(plan_contracted(envelope.account_id))
    assert await store.deliver(envelope) is Outcome.PROCESSED
    assert await store.deliver(envelope) is Outcome.DEDUPLICATED
    assert len(await store.rows("activations")) == 1
    assert (store.counters.processed, store.counters.deduplicated) == (2, 1)


async def test_invalid_json_is_dead_lettered_with_the_reason_and_the_next_message_goes_on(store):
    cart = activation_requested(account())
    await store.deliver(plan_contracted(cart.account_id))
    assert await store.deliver(b'{"event_id": ', key=b"acc-1") is Outcome.DEAD_LETTERED
    assert await store.deliver(cart) is Outcome.PROCESSED
    [headers] = store.dead_letters()
    assert headers["x-tienda-error-class"] == "PoisonMessage"
    assert "invalid JSON" in headers["x-tienda-error-message"]
    assert headers["x-tienda-original-key"] == "acc-1"
    assert headers["x-tienda-service"] == "store"


async def test_a_message_missing_a_required_field_is_dead_lettered_naming_the_field(store):
    document = as_dict(activation_requested(account()))
    del document["payload"]["payment_mode"]
    outcome = await store.deliver(json.dumps(document).encode(), key=document["account_id"].encode())
    assert outcome is Outcome.DEAD_LETTERED
    assert "payload.payment_mode: field required" in store.dead_letters()[0]["x-tienda-error-message"]


async def test_bytes_that_are_not_text_are_dead_lettered(store):
    assert await store.deliver(b"\xff\xfe\x00garbage") is Outcome.DEAD_LETTERED
    assert "not UTF-8" in store.dead_letters()[0]["x-tienda-error-message"]


async def test_a_type_the_service_does_not_handle_is_ignored_without_judging_its_payload(store):
    document = as_dict(charge_scheduled(account()))
    del document["payload"]["lines"]  # billing's business, not the store's: billing dead-letters it
    raw = json.dumps(document).encode()
    assert await store.deliver(raw, key=document["account_id"].encode()) is Outcome.IGNORED
    assert await store.deliver_batch([raw]) == [Outcome.IGNORED]
    assert (store.counters.ignored, store.counters.dead_lettered) == (2, 0)
    assert store.dead_letters() == []


async def test_a_message_on_a_topic_that_does_not_carry_its_type_is_dead_lettered_naming_its_topic(store):
    cart = activation_requested(account())
    await store.deliver(plan_contracted(cart.account_id), topic="tienda.accounts.plans")
    payment = as_dict(charge_scheduled(cart.account_id))  # billing's input, published on the store's topic by mistake
    raw = json.dumps(payment).encode()
    assert await store.deliver(raw, topic="tienda.activations.requested") is Outcome.DEAD_LETTERED
    assert await store.deliver(cart, topic="tienda.accounts.plans") is Outcome.DEAD_LETTERED
    assert await store.deliver_batch([raw], topic="tienda.activations.requested") == [Outcome.DEAD_LETTERED]
    first, second, _ = (headers["x-tienda-error-message"] for headers in store.dead_letters())
    assert first == (
        "ChargeScheduled does not belong on tienda.activations.requested, which carries ActivationRequested, "
        "ReductionRequested: publish it on tienda.store.events"
    )
    assert second.endswith("publish it on tienda.activations.requested")
    assert await store.rows("activations") == []


async def test_an_unknown_message_type_is_dead_lettered(store):
    document = as_dict(activation_requested(account()))
    document["type"] = "ActivationWished"
    await store.deliver(json.dumps(document).encode())
    assert "unknown message type 'ActivationWished'" in store.dead_letters()[0]["x-tienda-error-message"]


async def test_a_key_that_is_not_the_account_is_dead_lettered(store):
    envelope = activation_requested("acc-ferreteria")
    assert await store.deliver(envelope, key=b"acc-other") is Outcome.DEAD_LETTERED
    assert "publish with the account id as key" in store.dead_letters()[0]["x-tienda-error-message"]


async def test_a_transient_failure_is_retried_and_then_succeeds(store, monkeypatch):
    real, failures = store.definition.consumer.handlers["ActivationRequested"], [1]

    async def flaky(envelope, uow):
        if failures.pop() if failures else 0:
            raise OperationalError("SELECT 1", {}, Exception("database is locked"))
        await real(envelope, uow)

    monkeypatch.setitem(store.definition.consumer.handlers, "ActivationRequested", flaky)
    cart = activation_requested(account())
    await store.deliver(plan_contracted(cart.account_id))
    assert await store.deliver(cart) is Outcome.PROCESSED
    assert store.counters.retried == 1
    assert len(await store.rows("activations")) == 1


async def test_a_transient_failure_that_outlasts_the_retries_is_dead_lettered_with_its_attempts(store, monkeypatch):
    async def down(envelope, uow):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setitem(store.definition.consumer.handlers, "ActivationRequested", down)
    assert await store.deliver(activation_requested(account())) is Outcome.DEAD_LETTERED
    assert store.dead_letters()[0]["x-tienda-attempts"] == "3"
    assert store.counters.retried == 2


async def test_a_dead_letter_waits_for_the_broker_rather_than_being_lost(store):
    store.publisher.fail_times = 2
    store.processor._dead_letters._retry_delay = 0.01
    assert await store.deliver(b"not json") is Outcome.DEAD_LETTERED
    assert len(store.dead_letters()) == 1


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (OperationalError("INSERT", {}, Exception("database is locked")), True),
        (ConnectionRefusedError(111, "Connection refused"), True),
        (ValueError("quantity must be positive"), False),
        (KeyError("USR-EXTRA"), False),
    ],
)
def test_failures_are_classified_as_transient_or_permanent(error, transient):
    assert is_transient(error) is transient


def test_a_postgres_shutdown_is_transient_by_its_sqlstate():
    class AdminShutdown(Exception):
        sqlstate = "57P01"

    wrapped = RuntimeError("terminating connection due to administrator command")
    wrapped.__cause__ = AdminShutdown()
    assert is_transient(wrapped)


async def test_a_card_number_never_reaches_the_dead_letter_topic(store):
    document = as_dict(activation_requested(account()))
    document["payload"]["note"] = "mi tarjeta es 4111 1111 1111 1111, cobren ahí"
    document["payload"]["payment_mode"] = "tarjeta"
    await store.deliver(json.dumps(document).encode(), key=document["account_id"].encode())
    [sent] = [s for s in store.publisher.sent if s.topic.startswith("tienda.deadletter")]
    assert b"4111 1111 1111 1111" not in sent.value
    assert b"**** **** **** 1111" in sent.value
    assert "card numbers masked" in sent.headers["x-tienda-redacted"]


def test_redaction_leaves_ordinary_numbers_alone():
    value = b'{"amount_clp": 35700, "rut": "76.086.428-5", "request_id": "20261125000001"}'
    assert redact_card_numbers(value) == (value, False)
