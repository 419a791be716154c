"""A service's message pipeline wired with its real handlers and database, fakes at the broker."""

import itertools
import json
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, cast

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.fakes import FakePublisher
from tienda.contracts.envelope import Envelope
from tienda.messaging.codec import encode
from tienda.messaging.counters import Counters
from tienda.messaging.database import READ_ONLY, session_factory
from tienda.messaging.dead_letters import DeadLetters
from tienda.messaging.http import TokenRing
from tienda.messaging.migrations import upgrade_to_head
from tienda.messaging.processor import MessageProcessor, Outcome, RetryPolicy
from tienda.messaging.records import Record
from tienda.messaging.relay import OutboxRelay
from tienda.messaging.unit_of_work import UnitOfWork
from tienda.messaging.worker import Runtime, ServiceDefinition, http_app

_offsets = itertools.count()
QUICK_RETRIES = RetryPolicy((0.01, 0.01))


@dataclass
class Harness:
    definition: ServiceDefinition
    engine: AsyncEngine
    publisher: FakePublisher
    counters: Counters
    processor: MessageProcessor

    async def deliver(
        self, message: Envelope[Any] | bytes, topic: str = "tienda.test", key: bytes | None = None
    ) -> Outcome:
        if isinstance(message, Envelope):
            key = key or message.account_id.encode()
            message = encode(message)
        return await self.processor.process(Record(topic, 0, next(_offsets), key, message))

    async def deliver_batch(self, messages: list[Envelope[Any] | bytes], topic: str = "tienda.test") -> list[Outcome]:
        records = []
        for message in messages:
            key = message.account_id.encode() if isinstance(message, Envelope) else None
            value = encode(message) if isinstance(message, Envelope) else message
            records.append(Record(topic, 0, next(_offsets), key, value))
        return await self.processor.process_batch(records)

    def unit_of_work(self) -> UnitOfWork:
        """A transaction of the service, on its clock."""
        return UnitOfWork(
            session_factory(self.engine), self.definition.tables, self.definition.name, clock=self.definition.clock
        )

    def http(self, tokens: TokenRing, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
        """The service's HTTP surface on this database, as the worker serves it (no broker behind)."""
        runtime = SimpleNamespace(
            engine=self.engine,
            sessions=session_factory(self.engine),
            readers=session_factory(self.engine),
            read_only=self.engine.execution_options(**{READ_ONLY: True}),
            unit_of_work=self.unit_of_work,
        )
        app = http_app(self.definition, cast(Runtime, runtime), tokens, {})
        transport = httpx.ASGITransport(app=app)
        return httpx.AsyncClient(transport=transport, base_url=f"http://{self.definition.name}", headers=headers)

    async def relay(self) -> list[dict[str, Any]]:
        """Publish the outbox through the fake publisher; the messages sent, decoded."""
        relay = OutboxRelay(self.engine, self.definition.tables, self.publisher, self.counters)
        while await relay.relay_batch():
            pass
        return [
            json.loads(sent.value) for sent in self.publisher.sent if not sent.topic.startswith("tienda.deadletter")
        ]

    def dead_letters(self) -> list[dict[str, str]]:
        return [sent.headers for sent in self.publisher.sent if sent.topic.startswith("tienda.deadletter")]

    async def rows(self, table_name: str) -> list[dict[str, Any]]:
        table = self.definition.metadata.tables[table_name]
        async with self.engine.connect() as connection:
            return [dict(row) for row in (await connection.execute(select(table))).mappings()]


async def harness(definition: ServiceDefinition, engine: AsyncEngine, retry: RetryPolicy = QUICK_RETRIES) -> Harness:
    await upgrade_to_head(engine, definition.migrations)
    publisher, counters = FakePublisher(), Counters()

    def unit_of_work() -> UnitOfWork:
        return UnitOfWork(session_factory(engine), definition.tables, definition.name, clock=definition.clock)

    processor = MessageProcessor(
        definition.consumer.handlers, unit_of_work, DeadLetters(definition.name, publisher), counters, retry
    )
    return Harness(definition, engine, publisher, counters, processor)
