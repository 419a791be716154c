"""Billing's consumer wired as the worker wires it, on FastStream's in-memory TestKafkaBroker:
a message on each of billing's topics reaches the handler of its type, in milliseconds.
The same path on a real broker is tested in tests/e2e and tests/reliability."""

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker

from tests.advisor.samples import activation_rejected
from tests.billing.conftest import (
    billing_data_submitted,
    card_subscribed,
    card_unsubscribed,
    charge_scheduled,
    payment,
    payment_failed,
    plan_contracted,
    reduction_scheduled,
    uf_published,
)
from tests.harness import Harness, harness
from tests.samples import account
from tienda.billing.bootstrap import definition
from tienda.billing.config import BillingSettings
from tienda.billing.service_layer import handlers
from tienda.contracts.envelope import Envelope, new_envelope
from tienda.contracts.messages.plans import AccountReinstated, AccountSuspended
from tienda.contracts.topics import topic_for, topics_consumed_by
from tienda.messaging.codec import encode
from tienda.messaging.kafka import create_broker, subscribe
from tienda.messaging.offsets import OffsetCommitter

ACCOUNT = account()

HANDLED_BY = {
    "PlanContracted": "contract_plan",
    "AccountSuspended": "suspend_account",
    "AccountReinstated": "reinstate_account",
    "ChargeScheduled": "schedule_charges",
    "ReductionScheduled": "schedule_reduction",
    "PaymentReceived": "record_payment",
    "PaymentFailed": "record_payment_failure",
    "BillingDataSubmitted": "submit_billing_data",
    "CardSubscribed": "subscribe_card",
    "CardUnsubscribed": "unsubscribe_card",
    "UfValuePublished": "record_uf_value",
}


def samples() -> list[Envelope[Any]]:
    """One message of every type billing consumes."""
    return [
        plan_contracted(ACCOUNT),
        new_envelope(AccountSuspended(reason="Facturas impagas"), account_id=ACCOUNT, producer="erp-web"),
        new_envelope(AccountReinstated(), account_id=ACCOUNT, producer="erp-web"),
        charge_scheduled(ACCOUNT, date(2027, 2, 10)),
        reduction_scheduled(ACCOUNT, "USR-EXTRA", 1),
        payment(ACCOUNT, "ORD-2B0C4A7E9C1F", 29_930),
        payment_failed(ACCOUNT, "INV-20270228-3FA9C2D41B07", 116_620, datetime(2027, 2, 28, 15, tzinfo=UTC)),
        billing_data_submitted(ACCOUNT),
        card_subscribed(ACCOUNT),
        card_unsubscribed(ACCOUNT),
        uf_published(date(2027, 2, 10), "39123.45"),
    ]


@dataclass
class Wired:
    broker: KafkaBroker
    billing: Harness
    reached: list[tuple[str, str, str]] = field(default_factory=list)
    """(handler, message type, event id) of every call."""
    positions: list[tuple[str, int]] = field(default_factory=list)
    """(topic, offset) the worker would commit."""

    async def publish(self, envelope: Envelope[Any], topic: str | None = None) -> None:
        where = topic or topic_for(envelope.type, envelope.producer).name
        await self.broker.publish(encode(envelope), topic=where, key=envelope.account_id.encode())


async def wire(engine: Any, monkeypatch: pytest.MonkeyPatch, *, spy: bool) -> Wired:
    """The billing definition's consumer subscribed on a broker that is never connected."""
    wired = Wired(create_broker("127.0.0.1:9", "billing"), None)  # type: ignore[arg-type]
    if spy:
        for name in HANDLED_BY.values():
            monkeypatch.setattr(handlers, name, recorder(wired, name))

    async def record_positions(self: OffsetCommitter, consumer: Any, last: dict[Any, int]) -> None:
        wired.positions += [(partition.topic, offset) for partition, offset in last.items()]

    monkeypatch.setattr(OffsetCommitter, "handled", record_positions)  # the in-memory consumer commits nothing
    settings = BillingSettings()
    worker = definition(settings)
    wired.billing = await harness(worker, engine)
    subscribe(
        wired.broker,
        wired.billing.processor,
        worker.consumer.topic_names,
        worker.consumer.group_id,
        batch_size=settings.consume_batch_size,
        commit_interval=settings.commit_interval,
    )
    return wired


def recorder(wired: Wired, name: str) -> Any:
    async def handler(envelopes: Envelope[Any] | list[Envelope[Any]], uow: Any) -> None:
        for envelope in envelopes if isinstance(envelopes, list) else [envelopes]:  # a batched handler gets a run
            wired.reached.append((name, envelope.type, str(envelope.event_id)))

    return handler


@pytest.fixture
async def spied(engine, monkeypatch) -> AsyncIterator[Wired]:
    wired = await wire(engine, monkeypatch, spy=True)
    async with TestKafkaBroker(wired.broker):
        yield wired


@pytest.fixture
async def real(engine, monkeypatch) -> AsyncIterator[Wired]:
    wired = await wire(engine, monkeypatch, spy=False)
    async with TestKafkaBroker(wired.broker):
        yield wired


def test_every_message_type_billing_consumes_has_a_handler_and_travels_on_a_topic_it_reads():
    consumer = definition(BillingSettings()).consumer
    carried = {message for topic in topics_consumed_by("billing") for message in topic.messages}
    assert set(consumer.handlers) == set(HANDLED_BY) <= carried
    named = {name: getattr(handler, "handle", handler).__name__ for name, handler in consumer.handlers.items()}
    assert named == HANDLED_BY


async def test_a_message_on_each_of_billings_topics_reaches_the_handler_of_its_type(spied):
    sent = samples()
    for envelope in sent:
        await spied.publish(envelope)
    assert spied.reached == [(HANDLED_BY[e.type], e.type, str(e.event_id)) for e in sent]
    assert {topic for topic, _ in spied.positions} == {topic.name for topic in topics_consumed_by("billing")}


async def test_a_type_billing_does_not_handle_is_ignored_and_a_poison_message_is_dead_lettered(spied):
    await spied.broker.publish(b"{not json", topic="tienda.payments.received", key=ACCOUNT.encode())
    await spied.publish(activation_rejected(ACCOUNT, "UNKNOWN_SKU"), topic="tienda.store.events")  # the advisor's
    assert spied.reached == []
    assert (spied.billing.counters.ignored, spied.billing.counters.dead_lettered) == (1, 1)
    [dead] = spied.billing.dead_letters()
    assert (dead["x-tienda-original-topic"], dead["x-tienda-service"]) == ("tienda.payments.received", "billing")


async def test_the_real_handlers_behind_the_in_memory_broker_open_the_account(real):
    plan = plan_contracted(ACCOUNT)
    await real.publish(plan)
    [row] = await real.billing.rows("billing_accounts")
    assert (row["account_id"], row["plan_code"], row["next_renewal"]) == (ACCOUNT, "PYME", date(2027, 2, 28))
    [snapshot] = [m for m in await real.billing.relay() if m["type"] == "BillingSnapshot"]
    assert snapshot["causation_id"] == str(plan.event_id)
