"""Per-message cost of the store's, billing's and the advisor's handling, in one process, without Kafka.

    uv run python bench/handlers.py [--carts 4000] [--accounts 200] [--batch 100]
                                     [--database-url URL] [--profile DIR]

Feeds the store's consumer path (decode, inbox, handler, outbox, outcome) PlanContracted
for every account and then N one-line carts, in batches as the worker's consumer would;
then feeds billing the store's own outbox (PlanContracted and every ChargeScheduled), the
way the relay would have published it; then feeds the advisor what the pipeline's advisor
reads: every message of the store's and billing's outboxes on a topic it consumes
(ActivationCompleted and ChargeScheduled per cart, and whatever billing emitted there).
Prints messages per second and CPU milliseconds per message (and per cart) for each
service. With --profile, writes a cProfile of each run to DIR (read it with
`python -m pstats` or snakeviz). This is the number to move when the pipeline benchmark says
a worker is CPU-bound; the pipeline benchmark (bench/pipeline.py) is the one that counts.
"""

import argparse
import asyncio
import cProfile
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import event, select

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.samples import activation_requested  # noqa: E402
from tests.samples_store import plan_contracted  # noqa: E402

from tienda.contracts.topics import ACCOUNT_PLANS, ACTIVATION_REQUESTS  # noqa: E402
from tienda.messaging.codec import encode  # noqa: E402
from tienda.messaging.counters import Counters  # noqa: E402
from tienda.messaging.database import create_engine, session_factory  # noqa: E402
from tienda.messaging.dead_letters import DeadLetters  # noqa: E402
from tienda.messaging.migrations import upgrade_to_head  # noqa: E402
from tienda.messaging.monitoring import Monitoring  # noqa: E402
from tienda.messaging.processor import MessageProcessor  # noqa: E402
from tienda.messaging.records import Record  # noqa: E402
from tienda.messaging.unit_of_work import UnitOfWork  # noqa: E402
from tienda.messaging.worker import ServiceDefinition  # noqa: E402


class NullPublisher:
    """Accepts every message at once: what is measured here is the handling, not the broker."""

    async def send(self, topic: str, key: str | None, value: bytes, headers: Any = None) -> "asyncio.Future[object]":
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future


def records(topic: str, messages: Sequence[tuple[str, bytes]]) -> list[Record]:
    return [Record(topic, 0, offset, key.encode(), value) for offset, (key, value) in enumerate(messages)]


async def feed(
    definition: ServiceDefinition, url: str, inputs: list[Record], batch: int, profile: Path | None
) -> tuple[dict[str, float], Any]:
    engine = create_engine(url)
    await upgrade_to_head(engine, definition.migrations)
    statements = [0]

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def count(*_: Any) -> None:
        statements[0] += 1

    sessions = session_factory(engine)
    counters = Counters()
    processor = MessageProcessor(
        definition.consumer.handlers,
        lambda: UnitOfWork(sessions, definition.tables, definition.name),
        DeadLetters(definition.name, NullPublisher()),
        counters,
        observe=Monitoring(definition.name, NullPublisher(), counters).observe,
    )
    profiler = cProfile.Profile() if profile else None
    wall, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    for start in range(0, len(inputs), batch):
        await processor.process_batch(inputs[start : start + batch])
    if profiler and profile:
        profiler.disable()
        profiler.dump_stats(str(profile / f"{definition.name}.prof"))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    event.remove(engine.sync_engine, "before_cursor_execute", count)
    if counters.dead_lettered:
        raise SystemExit(f"{definition.name}: {counters.dead_lettered} dead letters; the benchmark input is wrong")
    return {
        "messages": len(inputs),
        "per_second": len(inputs) / wall,
        "cpu_ms_per_message": 1000 * cpu / len(inputs),
        "statements_per_message": statements[0] / len(inputs),
    }, engine


async def outbox_of(engine: Any, definition: ServiceDefinition, wanted: Callable[[str], bool]) -> list[Record]:
    outbox = definition.tables.outbox
    async with engine.connect() as connection:
        rows = (await connection.execute(select(outbox).order_by(outbox.c.id))).all()
    return [
        Record(row.topic, 0, offset, row.key.encode(), row.value)
        for offset, row in enumerate(r for r in rows if wanted(r.message_type))
    ]


async def run(args: argparse.Namespace) -> None:
    from tienda.advisor.bootstrap import definition as advisor  # noqa: PLC0415
    from tienda.advisor.config import AdvisorSettings  # noqa: PLC0415
    from tienda.billing.bootstrap import definition as billing  # noqa: PLC0415
    from tienda.billing.config import BillingSettings  # noqa: PLC0415
    from tienda.store.bootstrap import definition as store  # noqa: PLC0415
    from tienda.store.config import StoreSettings  # noqa: PLC0415

    work = Path(tempfile.mkdtemp(prefix="tienda-bench-handlers-"))
    url = args.database_url or f"sqlite+aiosqlite:///{work}/{{service}}.db"
    accounts = [f"acc-bench-{n:04d}" for n in range(args.accounts)]
    plans = records(ACCOUNT_PLANS.name, [(a, encode(plan_contracted(a))) for a in accounts])
    carts = records(
        ACTIVATION_REQUESTS.name,
        [
            (a, encode(activation_requested(a, ("USR-EXTRA", 1), request_id=f"bench-{n}")))
            for n, a in ((n, accounts[n % len(accounts)]) for n in range(args.carts))
        ],
    )
    store_definition = store(StoreSettings())
    await feed(store_definition, url.format(service="store"), plans, args.batch, None)
    stored, store_engine = await feed(store_definition, url.format(service="store"), carts, args.batch, args.profile)
    charges = await outbox_of(store_engine, store_definition, lambda kind: kind == "ChargeScheduled")
    advisor_definition = advisor(AdvisorSettings())
    advised = set(advisor_definition.consumer.topic_names)
    store_events = [r for r in await outbox_of(store_engine, store_definition, lambda _: True) if r.topic in advised]
    await store_engine.dispose()
    billing_definition = billing(BillingSettings())
    await feed(billing_definition, url.format(service="billing"), plans, args.batch, None)
    billed, billing_engine = await feed(
        billing_definition, url.format(service="billing"), charges, args.batch, args.profile
    )
    billing_events = [
        r for r in await outbox_of(billing_engine, billing_definition, lambda _: True) if r.topic in advised
    ]
    await billing_engine.dispose()
    noted, advisor_engine = await feed(
        advisor_definition, url.format(service="advisor"), store_events + billing_events, args.batch, args.profile
    )
    await advisor_engine.dispose()
    for name, figures in (
        ("store (carts)", stored),
        ("billing (ChargeScheduled)", billed),
        ("advisor (store/billing events)", noted),
    ):
        per_cart = figures["cpu_ms_per_message"] * figures["messages"] / args.carts
        print(
            f"{name:<31} {figures['messages']:>6} messages  {figures['per_second']:>7.0f}/s  "
            f"{figures['cpu_ms_per_message']:>6.2f} CPU ms/message  {per_cart:>6.2f} CPU ms/cart  "
            f"{figures['statements_per_message']:>5.2f} SQL statements/message"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--carts", type=int, default=4000)
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--database-url", help="with {service} where the service name goes; default: SQLite files")
    parser.add_argument("--profile", type=Path, help="write store.prof, billing.prof and advisor.prof here")
    args = parser.parse_args()
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
