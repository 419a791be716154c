"""The worker's producer after a failure of the producer itself: aiokafka's idempotent producer refuses
every send after an OutOfOrderSequenceNumber (seen when the broker restarted under load), so the
next send gets a new producer, and keeps trying while Kafka is away."""

import asyncio
from typing import Any, ClassVar

import pytest
from aiokafka.errors import KafkaConnectionError, OutOfOrderSequenceNumber

from tienda.messaging import publisher as publishing
from tienda.messaging.publisher import KafkaPublisher


class FakeProducer:
    """Stands in for AIOKafkaProducer: the first one breaks, later ones work (or fail to connect)."""

    made: ClassVar[list["FakeProducer"]] = []
    unreachable: ClassVar[int] = 0

    def __init__(self, **options: Any) -> None:
        self.options, self.sent, self.stopped, self.broken = options, 0, False, False
        self.first = not FakeProducer.made
        FakeProducer.made.append(self)

    async def start(self) -> None:
        if FakeProducer.unreachable:
            FakeProducer.unreachable -= 1
            raise KafkaConnectionError("broker away")

    async def stop(self) -> None:
        self.stopped = True

    async def send(self, topic: str, value: bytes, key: bytes | None, headers: Any) -> "asyncio.Future[object]":
        if self.broken:
            raise OutOfOrderSequenceNumber()  # what aiokafka's accumulator raises once its sender died
        loop = asyncio.get_running_loop()
        delivery: asyncio.Future[object] = loop.create_future()
        if self.first:  # the broker's answer comes later, as it would
            self.broken = True
            loop.call_soon(delivery.set_exception, OutOfOrderSequenceNumber())
        else:
            self.sent += 1
            loop.call_soon(delivery.set_result, None)
        return delivery


@pytest.fixture
def producers(monkeypatch) -> type[FakeProducer]:
    FakeProducer.made, FakeProducer.unreachable = [], 0
    monkeypatch.setattr(publishing, "AIOKafkaProducer", FakeProducer)
    return FakeProducer


async def test_a_broken_producer_is_replaced_at_the_next_send(producers):
    publisher = KafkaPublisher("127.0.0.1:9", "tienda-store", linger_ms=5)
    await publisher.start()
    with pytest.raises(OutOfOrderSequenceNumber):
        await (await publisher.send("tienda.store.events", "acc-1", b"{}"))
    await (await publisher.send("tienda.store.events", "acc-1", b"{}"))  # the caller's retry
    first, second = producers.made
    assert first.stopped
    assert second.sent == 1
    assert second.options["max_batch_size"] == publishing.BATCH_BYTES
    assert second.options["linger_ms"] == 5, "the replacement has the same settings (PUBLISH_LINGER_MS)"


async def test_a_replacement_that_cannot_connect_is_tried_again_at_the_next_send(producers):
    publisher = KafkaPublisher("127.0.0.1:9", "tienda-store")
    await publisher.start()
    with pytest.raises(OutOfOrderSequenceNumber):
        await (await publisher.send("tienda.store.events", "acc-1", b"{}"))
    producers.unreachable = 1
    with pytest.raises(KafkaConnectionError):
        await publisher.send("tienda.store.events", "acc-1", b"{}")
    await (await publisher.send("tienda.store.events", "acc-1", b"{}"))
    assert [producer.sent for producer in producers.made] == [0, 0, 1]


async def test_a_stopped_publisher_is_not_restarted_by_a_late_send(producers):
    publisher = KafkaPublisher("127.0.0.1:9", "tienda-store")
    await publisher.start()
    with pytest.raises(OutOfOrderSequenceNumber):
        await (await publisher.send("tienda.store.events", "acc-1", b"{}"))
    await publisher.stop()
    with pytest.raises(publishing.PublisherNotConnected):
        await publisher.send("tienda.store.events", "acc-1", b"{}")
    assert len(producers.made) == 1
