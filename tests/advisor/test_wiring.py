"""The advisor's wiring in memory (FastStream's TestKafkaBroker): every message type it handles,
published on the topic that carries it, reaches its handler through the worker's own subscriber,
processor and database, in milliseconds. The real broker runs the same path in tests/e2e."""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.message import FakeConsumer

from tests.advisor.samples import settings
from tests.fakes import FakePublisher
from tests.harness import QUICK_RETRIES
from tests.samples import account
from tienda.advisor.bootstrap import definition
from tienda.contracts.envelope import Envelope, new_envelope
from tienda.contracts.registry import payload_class
from tienda.contracts.topics import topics_consumed_by
from tienda.messaging.codec import encode
from tienda.messaging.counters import Counters
from tienda.messaging.database import create_engine, session_factory
from tienda.messaging.dead_letters import DeadLetters
from tienda.messaging.kafka import create_broker, subscribe
from tienda.messaging.migrations import upgrade_to_head
from tienda.messaging.offsets import OffsetCommitter
from tienda.messaging.processor import MessageProcessor, Observation, Outcome
from tienda.messaging.unit_of_work import UnitOfWork


@pytest.fixture(autouse=True)
def commits(monkeypatch: pytest.MonkeyPatch) -> list[dict[Any, int]]:
    """The positions the subscriber commits. FastStream's in-memory consumer takes no positions;
    aiokafka's ``commit(offsets)`` does, as the worker calls it: the fake records them."""
    committed: list[dict[Any, int]] = []

    async def commit(_: object, offsets: dict[Any, int] | None = None) -> None:
        committed.append(dict(offsets or {}))

    monkeypatch.setattr(FakeConsumer, "commit", commit)
    return committed


SAMPLES = Path(__file__).resolve().parents[2] / "examples" / "messages"
WORKER = definition(settings())
# The request first, so that its update finds it; the rest in the order of the handlers.
FIRST = ("ExecutiveAssigned", "CommercialRequestSubmitted", "CommercialRequestUpdated")
HANDLED = [*FIRST, *(name for name in WORKER.consumer.handlers if name not in FIRST)]
# What README says the advisor consumes; the other types on its topics are ignored.
CONSUMED = {
    "CommercialRequestSubmitted", "CommercialRequestUpdated", "ExecutiveAssigned",
    "ActivationCompleted", "ActivationRejected", "ChargeScheduled", "ReductionScheduled", "ReductionRejected",
    "PaymentReceived", "PaymentFailed",
    "OrderCreated", "InvoiceIssued", "PaymentRecorded", "AutopayFailed",
}  # fmt: skip
TOPIC_OF = {name: topic.name for topic in topics_consumed_by("advisor") for name in topic.messages}


def sample(message_type: str, account_id: str) -> Envelope[Any]:
    """The contract's sample payload of ``message_type`` (examples/messages/), about ``account_id``."""
    payload = payload_class(message_type).model_validate(json.loads((SAMPLES / f"{message_type}.json").read_text()))
    return new_envelope(payload, account_id=account_id, producer="wiring-test")


@dataclass
class InMemoryWorker:
    """The advisor's subscriber, processor and handlers on a SQLite file, behind FastStream's TestKafkaBroker."""

    broker: KafkaBroker
    committer: OffsetCommitter
    letters: FakePublisher
    seen: list[tuple[str | None, Outcome]] = field(default_factory=list)


@asynccontextmanager
async def in_memory_worker(tmp_path: Path, batch_size: int = 1) -> AsyncIterator[InMemoryWorker]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'advisor.db'}")
    await upgrade_to_head(engine, WORKER.migrations)
    sessions, letters, seen = session_factory(engine), FakePublisher(), []

    async def observe(observation: Observation) -> None:
        seen.append((observation.envelope.type if observation.envelope else None, observation.outcome))

    processor = MessageProcessor(
        WORKER.consumer.handlers,
        lambda: UnitOfWork(sessions, WORKER.tables, WORKER.name),
        DeadLetters(WORKER.name, letters),
        Counters(),
        QUICK_RETRIES,
        observe,
    )
    broker = create_broker("127.0.0.1:1", WORKER.name)  # never reached: TestKafkaBroker stands in
    consumer = WORKER.consumer
    committer = subscribe(broker, processor, consumer.topic_names, consumer.group_id, batch_size=batch_size)
    try:
        async with TestKafkaBroker(broker) as test_broker:
            yield InMemoryWorker(test_broker, committer, letters, seen)
            await committer.close()
    finally:
        await engine.dispose()


@pytest.mark.parametrize("batch_size", [1, 100], ids=["one-by-one", "batches"])
async def test_every_message_type_on_the_advisors_topics_reaches_its_handler(tmp_path, batch_size, commits):
    account_id = account()
    async with in_memory_worker(tmp_path, batch_size) as worker:
        for message_type in HANDLED:
            envelope = sample(message_type, account_id)
            await worker.broker.publish(encode(envelope), TOPIC_OF[message_type], key=account_id.encode())
    assert set(HANDLED) == CONSUMED
    assert [message_type for message_type, _ in worker.seen] == HANDLED
    assert {outcome for _, outcome in worker.seen} == {Outcome.PROCESSED}
    assert worker.letters.sent == []
    assert {partition.topic for positions in commits for partition in positions} == set(TOPIC_OF.values())


async def test_a_message_the_advisor_cannot_read_goes_to_its_dead_letter_topic(tmp_path):
    async with in_memory_worker(tmp_path) as worker:
        await worker.broker.publish(b"{not json", "tienda.advisor.requests", key=b"acc-1")
    [letter] = worker.letters.sent
    assert letter.topic == WORKER.consumer.dead_letters.name
    assert letter.headers["x-tienda-original-topic"] == "tienda.advisor.requests"
    assert worker.seen == [(None, Outcome.DEAD_LETTERED)]
