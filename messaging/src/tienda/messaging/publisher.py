"""Sending bytes to Kafka: the one seam between the core and the broker client."""

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer

from tienda.messaging.connection import Kafka, connection_of

BATCH_BYTES = 512 * 1024
"""The most a partition's batch holds (aiokafka's ``max_batch_size``, 16 KiB by default). A send to a
partition whose batch is full waits until that batch left for the broker, and a batch leaves only
once the previous request to that broker was answered: at 16 KiB, a relay round of 141 rows (a
cart's rows are 4.6 KB: the PlanSnapshot alone 3.1 KB) waited for two or three broker round trips
in its sends, 122 ms at p50 under load (bench/pipeline.py at 100 carts/s). 512 KiB stays under
the broker's message.max.bytes (1 MiB)."""


class Publisher(Protocol):
    """Sends one message; the returned future resolves when the broker has it (acks=all)."""

    async def send(
        self, topic: str, key: str | None, value: bytes, headers: Mapping[str, str] | None = None
    ) -> "asyncio.Future[object]": ...


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

    async def start(self) -> None:
        """Connect; a new producer each time (one that failed to start or was stopped is not reused)."""
        await self.stop()
        producer = AIOKafkaProducer(**self._options)
        try:
            await producer.start()
        except BaseException:
            with contextlib.suppress(Exception):
                await producer.stop()
            raise
        self._producer = producer

    async def stop(self) -> None:
        """Send what is buffered and disconnect."""
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()

    async def send(
        self, topic: str, key: str | None, value: bytes, headers: Mapping[str, str] | None = None
    ) -> "asyncio.Future[object]":
        if self._producer is None:
            raise PublisherNotConnected(f"not connected to Kafka (not started, or stopped): {topic} not published")
        future: asyncio.Future[object] = await self._producer.send(
            topic,
            value,
            key=key.encode() if key is not None else None,
            headers=[(name, text.encode()) for name, text in headers.items()] if headers else None,
        )
        return future


async def send_and_wait(
    publisher: Publisher, topic: str, key: str | None, value: bytes, headers: Mapping[str, str] | None = None
) -> None:
    """Send and wait until the broker acknowledged it."""
    delivery = await publisher.send(topic, key, value, headers)
    await delivery
