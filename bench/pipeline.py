"""End-to-end benchmark: Tienda's pipeline against the bare-client limit on the same broker.

    uv run python bench/pipeline.py [--carts 20000] [--accounts 500] [--rate 0] [--database sqlite|postgresql]

Starts a Kafka broker (or uses KAFKA_BOOTSTRAP_SERVERS), the store, billing and advisor workers,
publishes PlanContracted for every account, then the carts, as fast as possible (--rate 0)
or at a fixed offered rate. Measures from each published ActivationRequested to (a) its
ActivationCompleted on tienda.store.events and (b) billing's outcome for its ChargeScheduled
on tienda.ops.outcomes (both by broker timestamps), the peak RSS of each process, and the
outbox backlog over time, and the CPU each process spends idle and per cart. In the same
run, before the workers start and after a warm-up loop (a broker in service is warm): a
bare aiokafka consume -> produce loop over the same broker, partitions and message size,
and the bare one-row-per-transaction commit rate of the database on the same disk. Prints
a table and writes bench/results/<time>.json; the run's files are removed unless --keep.
"""

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from sqlalchemy import text

from tienda.contracts.envelope import new_envelope
from tienda.contracts.messages.activation import ActivationRequested, CartLine, Entitlement
from tienda.contracts.messages.plans import BillingCycle, PlanContracted
from tienda.contracts.topics import ACCOUNT_PLANS, ACTIVATION_REQUESTS, OPERATIONS_OUTCOMES, STORE_EVENTS
from tienda.contracts.types import PaymentMode, Person
from tienda.devkit.kafka import LocalKafka
from tienda.devkit.workers import WorkerProcess, worker_env
from tienda.messaging.codec import encode
from tienda.messaging.connection import Kafka, connection_of
from tienda.messaging.database import create_engine
from tienda.messaging.provisioning import ensure_topics
from tienda.messaging.settings import ClientSettings

RESULTS = Path(__file__).parent / "results"
IDLE_SECONDS = 5.0
BARE_MESSAGES = 20_000
SERVICES = ("store", "billing", "advisor")
BUYER = Person(user_id="u-bench", name="Benchmark Buyer", email="bench@tienda.example")


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def summary(latencies_ms: list[float]) -> dict[str, float]:
    return {
        "count": len(latencies_ms),
        "p50_ms": percentile(latencies_ms, 0.50),
        "p95_ms": percentile(latencies_ms, 0.95),
        "p99_ms": percentile(latencies_ms, 0.99),
        "max_ms": max(latencies_ms, default=float("nan")),
        "mean_ms": statistics.fmean(latencies_ms) if latencies_ms else float("nan"),
    }


def peak_rss_mib(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds a process used so far (0 when it is gone)."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def carts(count: int, accounts: list[str]) -> list[tuple[str, str, bytes]]:
    """(account, event id, bytes) of ``count`` one-line carts spread over the accounts."""
    out = []
    for n in range(count):
        account = accounts[n % len(accounts)]
        payload = ActivationRequested(
            request_id=f"bench-{n}",
            requested_by=BUYER,
            payment_mode=PaymentMode.AT_RENEWAL,
            lines=[CartLine(sku="USR-EXTRA", quantity=1)],
        )
        envelope = new_envelope(payload, account_id=account, producer="erp-web")
        out.append((account, str(envelope.event_id), encode(envelope)))
    return out


def plans(accounts: list[str]) -> list[tuple[str, bytes]]:
    payload = PlanContracted(
        plan_code="PYME",
        plan_name="Pyme",
        included=[Entitlement(resource="users", quantity=3)],
        billing_cycle=BillingCycle.MONTHLY,
        renewal_anchor=date(2026, 11, 1),
        plan_price_uf=Decimal("2.9000"),
    )
    return [(a, encode(new_envelope(payload, account_id=a, producer="erp-web"))) for a in accounts]


async def produce(bootstrap: Kafka, topic: str, messages: list[tuple[str, bytes]], rate: float = 0) -> list[float]:
    """Publish in order; the send time of each message (seconds, epoch)."""
    producer = AIOKafkaProducer(
        acks="all", enable_idempotence=True, linger_ms=2, **connection_of(bootstrap).client_options()
    )
    await producer.start()
    sent_at: list[float] = []
    started = time.monotonic()
    try:
        futures = []
        for n, (key, value) in enumerate(messages):
            if rate:
                delay = started + n / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            sent_at.append(time.time())
            futures.append(await producer.send(topic, value, key=key.encode()))
        for future in futures:
            await future
    finally:
        await producer.stop()
    return sent_at


@dataclass
class Watch:
    """Reads store events and billing outcomes until every cart is completed and charged."""

    bootstrap: Kafka
    carts: dict[str, float]  # cart event id -> publish time
    completed: dict[str, float] = field(default_factory=dict)
    stored: dict[str, float] = field(default_factory=dict)  # cart event id -> store's outcome (committed)
    in_worker_ms: dict[str, list[float]] = field(default_factory=lambda: {"store": [], "billing": []})
    charge_of: dict[str, str] = field(default_factory=dict)  # charge event id -> cart event id
    charged: dict[str, float] = field(default_factory=dict)

    async def run(self, wait_seconds: float) -> None:
        consumer = AIOKafkaConsumer(
            STORE_EVENTS.name,
            OPERATIONS_OUTCOMES.name,
            **connection_of(self.bootstrap).client_options(),
            group_id=None,
            auto_offset_reset="latest",
            # Latencies come from the records' own timestamps, so the watcher may read late:
            # a few large fetches a second instead of one per record it watches, which would
            # cost the broker and this process CPU the workers need (the instrument's footprint).
            fetch_min_bytes=1 << 20,
            fetch_max_wait_ms=250,
        )
        await consumer.start()
        deadline = time.monotonic() + wait_seconds
        pending_charges: dict[str, float] = {}
        try:
            while len(self.charged) < len(self.carts) and time.monotonic() < deadline:
                for records in (await consumer.getmany(timeout_ms=500, max_records=5000)).values():
                    for record in records:
                        self._see(record, pending_charges)
        finally:
            await consumer.stop()

    def _see(self, record: Any, pending: dict[str, float]) -> None:
        document = json.loads(record.value)
        stamp = record.timestamp / 1000
        cause = document.get("causation_id")
        if record.topic == STORE_EVENTS.name and cause in self.carts:
            if document["type"] == "ActivationCompleted":
                self.completed.setdefault(cause, stamp)
            elif document["type"] == "ChargeScheduled":
                self.charge_of[document["event_id"]] = cause
                if document["event_id"] in pending:
                    self.charged.setdefault(cause, pending.pop(document["event_id"]))
        elif record.topic == OPERATIONS_OUTCOMES.name:
            outcome = document["payload"]
            if outcome["service"] == "store" and outcome["handled_event_id"] in self.carts:
                self.stored.setdefault(outcome["handled_event_id"], stamp)
                self.in_worker_ms["store"].append(outcome["latency_ms"])
            if outcome["service"] == "billing" and outcome["handled_type"] == "ChargeScheduled":
                self.in_worker_ms["billing"].append(outcome["latency_ms"])
                cart = self.charge_of.get(outcome["handled_event_id"])
                if cart:
                    self.charged.setdefault(cart, stamp)
                else:
                    pending[outcome["handled_event_id"]] = stamp


async def backlog_sampler(workers: list[WorkerProcess], samples: list[dict[str, Any]], stop: asyncio.Event) -> None:
    started = time.monotonic()
    while not stop.is_set():
        row: dict[str, Any] = {"t": round(time.monotonic() - started, 1)}
        for worker in workers:
            try:
                row[worker.service] = (await asyncio.to_thread(worker.metrics)).get("tienda_outbox_backlog")
            except OSError:
                row[worker.service] = None
        samples.append(row)
        await asyncio.sleep(1)


async def plans_taken(workers: list[WorkerProcess], accounts: int, within: float = 120) -> None:
    """Wait until every worker handled the accounts' plans, so that the carts are measured alone."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        handled = [(await asyncio.to_thread(w.metrics)).get("tienda_messages_processed_total", 0) for w in workers]
        if all(count >= accounts for count in handled):
            return
        await asyncio.sleep(0.2)
    raise SystemExit(f"the workers did not take the {accounts} plans within {within:.0f}s")


async def bare_loop(bootstrap: Kafka, count: int, size: int) -> dict[str, float]:
    """The limit: consume -> produce with aiokafka alone, same broker, partitions and message size."""
    source, sink = f"bench.bare.in.{uuid.uuid4().hex[:6]}", f"bench.bare.out.{uuid.uuid4().hex[:6]}"
    admin = AIOKafkaAdminClient(**connection_of(bootstrap).client_options())
    await admin.start()
    await admin.create_topics([NewTopic(t, ACTIVATION_REQUESTS.partitions, 1) for t in (source, sink)])
    await admin.close()
    payload = b"x" * size
    await produce(bootstrap, source, [(f"acc-{n % 500}", payload) for n in range(count)])
    consumer = AIOKafkaConsumer(
        source,
        **connection_of(bootstrap).client_options(),
        group_id=f"bare-{source}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    producer = AIOKafkaProducer(
        acks="all", enable_idempotence=True, linger_ms=2, **connection_of(bootstrap).client_options()
    )
    await consumer.start()
    await producer.start()
    moved, started = 0, 0.0
    try:
        while moved < count:
            batches = await consumer.getmany(timeout_ms=1000, max_records=500)
            if batches and not started:
                started = time.monotonic()  # from the first records: the group join is not the loop's speed
            futures = [await producer.send(sink, r.value, key=r.key) for rs in batches.values() for r in rs]
            for future in futures:
                await future
            await consumer.commit()
            moved += len(futures)
    finally:
        await consumer.stop()
        await producer.stop()
    elapsed = time.monotonic() - started
    return {"messages": moved, "seconds": elapsed, "per_second": moved / elapsed}


async def bare_commits(url: str, count: int = 2000) -> dict[str, float]:
    """One row per transaction on the same disk: the database's own commit rate."""
    engine = create_engine(url)
    async with engine.begin() as connection:
        key = "BIGSERIAL PRIMARY KEY" if engine.dialect.name == "postgresql" else "INTEGER PRIMARY KEY"
        await connection.execute(text(f"CREATE TABLE IF NOT EXISTS bench_rows (id {key}, v TEXT)"))
    started = time.monotonic()
    for n in range(count):
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO bench_rows (v) VALUES (:v)"), {"v": str(n)})
    elapsed = time.monotonic() - started
    await engine.dispose()
    return {"rows": count, "seconds": elapsed, "per_second": count / elapsed}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="tienda-bench-"))
    kafka = None if os.environ.get("KAFKA_BOOTSTRAP_SERVERS") else LocalKafka(work / "kafka")
    postgres = None
    workers: list[WorkerProcess] = []
    try:
        started = time.monotonic()
        # An external broker comes with its security from the KAFKA_* variables (README).
        external = ClientSettings().kafka() if os.environ.get("KAFKA_BOOTSTRAP_SERVERS") else None
        bootstrap: Kafka = external or kafka.start(timeout=90)  # type: ignore[union-attr]
        await ensure_topics(bootstrap)
        if args.database == "postgresql":
            from tienda.devkit.postgres import LocalPostgres  # noqa: PLC0415

            postgres = LocalPostgres()
            postgres.start()
        urls = {
            s: postgres.create_database(f"bench_{s}") if postgres else f"sqlite+aiosqlite:///{work / s}.db"
            for s in (*SERVICES, "bare")
        }
        broker_seconds = time.monotonic() - started
        # The limits first; a first, unmeasured bare loop warms the broker's JIT (a broker in
        # service is warm) so that neither the limit nor Tienda pays for it.
        cart_bytes = len(carts(1, ["acc-bench-0000"])[0][2])
        await bare_loop(bootstrap, BARE_MESSAGES, cart_bytes)
        bare = await bare_loop(bootstrap, BARE_MESSAGES, cart_bytes)
        bare_commit_rate = await bare_commits(urls["bare"])
        started = time.monotonic()
        workers = [
            WorkerProcess(s, worker_env(s, bootstrap, urls[s], heartbeat_seconds="5"), work / f"{s}.log")
            for s in SERVICES
        ]
        for worker in workers:
            worker.start()
        stack_seconds = broker_seconds + time.monotonic() - started
        pids = {w.service: w.pid for w in workers} | {"kafka": kafka.pid if kafka else None, "bench": os.getpid()}
        result = await measure(args, bootstrap, workers, pids)
        result["stack_start_seconds"] = round(stack_seconds, 2)
        result["bare_aiokafka_loop"] = bare
        result["bare_database_commits"] = bare_commit_rate
        result["peak_rss_mib"] = {w.service: peak_rss_mib(w.pid) for w in workers} | {
            "kafka": peak_rss_mib(kafka.pid if kafka else None)
        }
        result["ratio_to_bare_loop"] = result["tienda"]["charged_per_second"] / bare["per_second"]
        return result
    finally:
        for worker in workers:
            worker.stop()
        if postgres:
            postgres.stop()
            postgres.cleanup()
        if kafka:
            kafka.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


async def idle_cpu(pids: dict[str, int | None], seconds: float = IDLE_SECONDS) -> dict[str, float]:
    """CPU ms per second each process spends with nothing to do: the stack's fixed cost."""
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    await asyncio.sleep(seconds)
    return {name: round(1000 * (cpu_seconds(pid) - before[name]) / seconds, 1) for name, pid in pids.items()}


async def measure(
    args: argparse.Namespace, bootstrap: Kafka, workers: list[WorkerProcess], pids: dict[str, int | None]
) -> dict[str, Any]:
    """Plans first (waited for), the idle stack, then the carts; what the watcher saw, by stage."""
    accounts = [f"acc-bench-{n:04d}" for n in range(args.accounts)]
    await produce(bootstrap, ACCOUNT_PLANS.name, plans(accounts))
    await plans_taken([w for w in workers if w.service in ("store", "billing")], len(accounts))
    idle = await idle_cpu(pids)
    batch = carts(args.carts, accounts)
    watch = Watch(bootstrap, {event_id: 0.0 for _, event_id, _ in batch})
    stop, backlog = asyncio.Event(), list[dict[str, Any]]()
    sampler = asyncio.create_task(backlog_sampler(workers, backlog, stop))
    watcher = asyncio.create_task(watch.run(args.timeout))
    await asyncio.sleep(1)  # let the watcher's consumer reach the end of the topics before the first cart
    started = time.time()
    cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    sent_at = await produce(bootstrap, ACTIVATION_REQUESTS.name, [(a, v) for a, _, v in batch], args.rate)
    watch.carts.update({event_id: at for (_, event_id, _), at in zip(batch, sent_at, strict=True)})
    await watcher
    finished = time.time()
    cpu_ms_per_cart = {
        name: round(1000 * (cpu_seconds(pid) - cpu_before[name]) / args.carts, 2) for name, pid in pids.items()
    }
    stop.set()
    await sampler
    completed = [1000 * (watch.completed[c] - t) for c, t in watch.carts.items() if c in watch.completed]
    stored = [1000 * (watch.stored[c] - t) for c, t in watch.carts.items() if c in watch.stored]
    relayed = [1000 * (watch.completed[c] - watch.stored[c]) for c in watch.completed if c in watch.stored]
    billed = [1000 * (watch.charged[c] - watch.completed[c]) for c in watch.charged if c in watch.completed]
    charged = [1000 * (watch.charged[c] - t) for c, t in watch.carts.items() if c in watch.charged]
    last = max(watch.charged.values(), default=finished)
    seconds: dict[int, list[float]] = {}
    for cart, at in watch.carts.items():
        if cart in watch.charged:
            seconds.setdefault(int(at - started), []).append(1000 * (watch.charged[cart] - at))
    over_time = [
        {"second": second, "carts": len(values), "charge_p50_ms": percentile(values, 0.5), "charge_max_ms": max(values)}
        for second, values in sorted(seconds.items())
    ]
    return {
        "machine": {"cores": os.cpu_count(), "database": args.database},
        "parameters": {"carts": args.carts, "accounts": args.accounts, "offered_rate": args.rate or "max"},
        "tienda": {
            "charged_per_second": len(charged) / max(last - started, 1e-9),
            "to_activation_completed": summary(completed),
            "to_charge_recorded": summary(charged),
        },
        "stages": {
            "cart_to_store_committed": summary(stored),
            "store_handling_in_worker": summary(watch.in_worker_ms["store"]),
            "store_committed_to_relayed": summary(relayed),
            "relayed_to_billing_committed": summary(billed),
            "billing_handling_in_worker": summary(watch.in_worker_ms["billing"]),
        },
        "cpu_ms_per_cart": cpu_ms_per_cart,
        "idle_cpu_ms_per_second": idle,
        "outbox_backlog": backlog,
        "charge_latency_by_send_second": over_time,
    }


def show(result: dict[str, Any]) -> None:
    t = result["tienda"]
    print(f"\nTienda pipeline, {result['parameters']} on {result['machine']}")
    print(f"  stack started in {result['stack_start_seconds']} s")
    print(
        f"  throughput (cart -> charge recorded): {t['charged_per_second']:.0f}/s; "
        f"bare aiokafka loop: {result['bare_aiokafka_loop']['per_second']:.0f}/s; "
        f"ratio {result['ratio_to_bare_loop']:.1%}"
    )
    print(f"  bare database commits: {result['bare_database_commits']['per_second']:.0f}/s")
    print(f"  {'from the cart published':<32}{'count':>7}{'p50':>9}{'p95':>9}{'p99':>9}{'max':>9}  (ms)")
    rows = [(stage, t[stage]) for stage in ("to_activation_completed", "to_charge_recorded")]
    for name, s in [*rows, *result["stages"].items()]:
        print(
            f"  {name:<32}{s['count']:>7}{s['p50_ms']:>9.1f}{s['p95_ms']:>9.1f}{s['p99_ms']:>9.1f}{s['max_ms']:>9.1f}"
        )
    print(f"  CPU ms per cart: {json.dumps(result['cpu_ms_per_cart'])}")
    print(f"  idle CPU ms per second: {json.dumps(result['idle_cpu_ms_per_second'])}")
    print(f"  peak RSS (MiB): {json.dumps({k: round(v) if v else v for k, v in result['peak_rss_mib'].items()})}")
    peaks = {s: max((row.get(s) or 0 for row in result["outbox_backlog"]), default=0) for s in SERVICES}
    print(f"  outbox backlog peak (rows): {json.dumps(peaks)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--carts", type=int, default=20000)
    parser.add_argument("--accounts", type=int, default=500)
    parser.add_argument("--rate", type=float, default=0, help="offered carts per second; 0 = as fast as possible")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--timeout", type=float, default=900, help="give up waiting after this many seconds")
    parser.add_argument("--keep", action="store_true", help="keep the broker's, workers' and databases' files")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    show(result)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{args.database}.json"
    path.write_text(json.dumps(result, indent=2, default=str))
    print(f"  written {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
