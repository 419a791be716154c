"""Sending bytes to Kafka: the one seam between the core and the broker client."""

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.errors import OutOfOrderSequenceNumber, ProducerFenced

from tienda.messaging.connection import Kafka, connection_of

BATCH_BYTES = 128 * 1024
"""The most a partition's batch holds (aiokafka's ``max_batch_size``, 16 KiB by default). A send to a
partition whose batch is full waits until that batch left for the broker, and a batch leaves only
once the previous request to that broker was answered: at 16 KiB, a relay round of 141 rows (a
cart's rows are 4.6 KB: the PlanSnapshot alone 3.1 KB) waited for two or three broker round trips
in its sends, 122 ms at p50 under load (bench/pipeline.py at 100 carts/s). A round of 500 rows is
about 64 KB a partition (the store writes to twelve): 128 KiB sends it in one trip, and the full
batches still hold a send back (at 512 KiB the store's peak RSS grew from 140 to 156 MiB at 500
carts/s offered, with nothing holding the relay's sends back)."""


class Publisher(Protocol):
    """Sends one message; the returned future resolves when the broker has it (acks=all)."""

    async def send(
        self, topic: str, key: str | None, value: bytes, headers: Mapping[str, str] | None = None
    ) -> "asyncio.Future[object]": ...


BROKEN_PRODUCER = (OutOfOrderSequenceNumber, ProducerFenced)
"""Errors after which aiokafka's idempotent producer refuses every later send (its sender stopped):
only a new producer, with a new producer id, sends again. Seen when the broker restarted under load."""


class PublisherNotConnected(ConnectionError):
    """A message sent before the worker connected to Kafka, or after it stopped."""


class KafkaPublisher:
    """Publishes with the worker's own aiokafka producer: idempotent, acks=all, with the security
    of the connection. The worker starts it before its subscribers (an outcome or a dead letter can
    go out with the first message handled) and stops it after them and the relay.

    Not through FastStream's ``broker.publish``: its command object, middleware chain and the
    correlation-id and content-type headers it puts on every record cost as much again as aiokafka's
    own send (about 100 against 50 us of CPU a message on the development machine), and a worker
    publishes several messages a cart (outbox rows, an outcome per message handled)."""

    def __init__(self, kafka: Kafka, client_id: str, linger_ms: int = 0) -> None:
        self._options: dict[str, Any] = {
            **connection_of(kafka).client_options(),
            "client_id": client_id,
            "enable_idempotence": True,
            "acks": "all",
            "linger_ms": linger_ms,
            "max_batch_size": BATCH_BYTES,
        }
        self._producer: AIOKafkaProducer | None = None
        self._broken = False
        self._restarting = asyncio.Lock()

    async def start(self) -> None:
        """Connect; a new producer each time (one that failed to start or was stopped is not reused)."""
        await self.stop()
        self._producer = await self._connected()

    async def _connected(self) -> AIOKafkaProducer:
        producer = AIOKafkaProducer(**self._options)
        try:
            await producer.start()
        except BaseException:
            with contextlib.suppress(Exception):
                await producer.stop()
            raise
        return producer

    async def stop(self) -> None:
        """Send what is buffered and disconnect."""
        self._broken = False
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()

    async def send(
        self, topic: str, key: str | None, value: bytes, headers: Mapping[str, str] | None = None
    ) -> "asyncio.Future[object]":
        if self._broken:
            await self._replace_broken_producer()
        if self._producer is None:
            raise PublisherNotConnected(f"not connected to Kafka (not started, or stopped): {topic} not published")
        try:
            future: asyncio.Future[object] = await self._producer.send(
                topic,
                value,
                key=key.encode() if key is not None else None,
                headers=[(name, text.encode()) for name, text in headers.items()] if headers else None,
            )
        except BROKEN_PRODUCER:
            self._broken = True
            raise
        future.add_done_callback(self._notice_broken)
        return future

    def _notice_broken(self, delivery: "asyncio.Future[object]") -> None:
        if not delivery.cancelled() and isinstance(delivery.exception(), BROKEN_PRODUCER):
            self._broken = True

    async def _replace_broken_producer(self) -> None:
        """The next send after a failure of the producer itself gets a new one (the caller retried
        what failed: the relay re-reads its unmarked rows, and inboxes drop what arrives twice)."""
        async with self._restarting:
            if not self._broken:
                return  # another send replaced it meanwhile
            broken, self._producer = self._producer, None
            if broken is not None:
                with contextlib.suppress(Exception):
                    await broken.stop()
            self._producer = await self._connected()  # raises while Kafka is away: the next send tries again
            self._broken = False


async def send_and_wait(
    publisher: Publisher, topic: str, key: str | None, value: bytes, headers: Mapping[str, str] | None = None
) -> None:
    """Send and wait until the broker acknowledged it."""
    delivery = await publisher.send(topic, key, value, headers)
    await delivery
