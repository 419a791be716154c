"""A producer that publishes a stream at a steady rate and remembers, for each message, when it
was handed over, where it went and whether the broker acknowledged it."""

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer

from tienda.messaging.connection import KafkaConnection


@dataclass
class Sent:
    key: str
    handed_at: datetime
    partition: int | None = None


@dataclass
class PacedPublisher:
    """Publishes (key, value) pairs at ``per_second``; waits for every acknowledgement at the end.

    The producer is idempotent with acks=all, and its requests may wait two minutes: a send
    the broker cannot take yet (too few replicas in sync) waits; it never fails fast."""

    connection: KafkaConnection
    topic: str
    messages: list[tuple[str, bytes]]
    per_second: float = 150
    sent: list[Sent] = field(default_factory=list)
    acked: int = 0
    failures: list[BaseException] = field(default_factory=list)

    async def run(self) -> None:
        producer = AIOKafkaProducer(
            acks="all",
            enable_idempotence=True,
            linger_ms=5,
            request_timeout_ms=120_000,
            **self.connection.client_options(),
        )
        await producer.start()
        try:
            deliveries = []
            began, tick = time.monotonic(), 0.05
            chunk = max(1, round(self.per_second * tick))
            for start in range(0, len(self.messages), chunk):
                for key, value in self.messages[start : start + chunk]:
                    record = Sent(key, datetime.now(UTC))
                    self.sent.append(record)
                    delivery = await producer.send(self.topic, value, key=key.encode())
                    delivery.add_done_callback(lambda done, record=record: self._acknowledged(done, record))
                    deliveries.append(delivery)
                await asyncio.sleep(max(0.0, began + (start + chunk) / self.per_second - time.monotonic()))
            await asyncio.gather(*deliveries, return_exceptions=True)
        finally:
            await producer.stop()

    def _acknowledged(self, delivery: "asyncio.Future[object]", record: Sent) -> None:
        if delivery.cancelled() or delivery.exception() is not None:
            self.failures.append(delivery.exception() or asyncio.CancelledError())
            return
        record.partition = delivery.result().partition  # type: ignore[attr-defined]
        self.acked += 1
