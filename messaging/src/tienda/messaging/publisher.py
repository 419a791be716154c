"""Sending bytes to Kafka: the one seam between the core and the broker client."""

import asyncio
from collections.abc import Mapping
from typing import Protocol

from faststream.kafka import KafkaBroker


class Publisher(Protocol):
    """Sends one message; the returned future resolves when the broker has it (acks=all)."""

    async def send(
        self, topic: str, key: str | None, value: bytes, headers: Mapping[str, str] | None = None
    ) -> "asyncio.Future[object]": ...


class KafkaPublisher:
    """Publishes through a FastStream broker configured with an idempotent, acks=all producer."""

    def __init__(self, broker: KafkaBroker) -> None:
        self._broker = broker

    async def send(
        self, topic: str, key: str | None, value: bytes, headers: Mapping[str, str] | None = None
    ) -> "asyncio.Future[object]":
        future: asyncio.Future[object] = await self._broker.publish(
            value,
            topic,
            key=key.encode() if key is not None else None,
            headers=dict(headers or {}),
            no_confirm=True,
        )
        return future


async def send_and_wait(
    publisher: Publisher, topic: str, key: str | None, value: bytes, headers: Mapping[str, str] | None = None
) -> None:
    """Send and wait until the broker acknowledged it."""
    delivery = await publisher.send(topic, key, value, headers)
    await delivery
