"""The store's wiring in memory (FastStream's TestKafkaBroker): a message of each type the store
consumes, published on its topic, reaches the store's subscriber, its processor and its handler.
The same path on the real broker: tests/e2e/test_store_plans.py and test_store_order.py."""

from datetime import date
from decimal import Decimal
from typing import Any

from aiokafka import TopicPartition
from faststream.kafka import TestKafkaBroker
from faststream.kafka.message import FAKE_CONSUMER

from tests.conftest import sqlite_url
from tests.harness import harness
from tests.samples import account, activation_requested
from tests.samples_store import account_reinstated, account_suspended, plan_contracted, reduction_requested
from tienda.contracts.envelope import new_envelope
from tienda.contracts.messages.billing import UfValuePublished
from tienda.contracts.topics import ACCOUNT_PLANS, ACTIVATION_REQUESTS, PLATFORM_ACCOUNT, UF_VALUES, topic_for
from tienda.messaging.codec import encode
from tienda.messaging.database import create_engine
from tienda.messaging.kafka import create_broker, subscribe
from tienda.store.bootstrap import definition
from tienda.store.config import StoreSettings


async def test_each_message_type_on_the_store_topics_reaches_its_handler_through_the_subscriber(tmp_path, monkeypatch):
    committed: dict[TopicPartition, int] = {}

    async def commit(positions: dict[TopicPartition, int]) -> None:
        committed.update(positions)

    monkeypatch.setattr(FAKE_CONSUMER, "commit", commit)  # the in-memory consumer commits nothing
    settings = StoreSettings()
    worker = definition(settings)
    engine = create_engine(sqlite_url(tmp_path))
    try:
        store = await harness(worker, engine)
        broker = create_broker("127.0.0.1:9", worker.name)  # never connected: TestKafkaBroker stands in
        committer = subscribe(
            broker,
            store.processor,
            worker.consumer.topic_names,
            worker.consumer.group_id,
            batch_size=settings.consume_batch_size,
            commit_interval=settings.commit_interval,
        )
        account_id = account()
        messages: list[Any] = [
            activation_requested(account_id, ("USR-EXTRA", 3), request_id="req-antes-del-plan"),
            plan_contracted(account_id),
            reduction_requested(account_id, ("USR-EXTRA", 1), request_id="red-uno"),
            account_suspended(account_id),
            account_reinstated(account_id),
            new_envelope(
                UfValuePublished(uf_date=date(2027, 2, 3), clp_per_uf=Decimal("39000.00")),
                account_id=PLATFORM_ACCOUNT,
                producer="indicator-feed",
            ),
        ]
        assert {message.type for message in messages} == set(worker.consumer.handlers)
        async with TestKafkaBroker(broker) as test_broker:
            for message in messages:
                topic = topic_for(message.type, message.producer).name
                assert topic in (ACTIVATION_REQUESTS.name, ACCOUNT_PLANS.name, UF_VALUES.name)
                await test_broker.publish(encode(message), topic=topic, key=message.account_id.encode())
            await committer.close()
    finally:
        await engine.dispose()
    assert (store.counters.consumed, store.counters.processed, store.counters.dead_lettered) == (6, 6, 0)
    [activation] = await store.rows("activations")
    assert activation["request_id"] == "req-antes-del-plan"
    assert [row["request_id"] for row in await store.rows("reductions")] == ["red-uno"]
    assert [row["status"] for row in await store.rows("status_changes")] == ["suspended", "active"]
    assert [(row["uf_date"], row["clp_per_uf"]) for row in await store.rows("uf_values")] == [
        (date(2027, 2, 3), "39000.00")
    ]
    assert set(committed) == {
        TopicPartition(ACTIVATION_REQUESTS.name, 0),
        TopicPartition(ACCOUNT_PLANS.name, 0),
        TopicPartition(UF_VALUES.name, 0),
    }
