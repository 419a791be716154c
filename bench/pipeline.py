"""End-to-end benchmark: Tienda's pipeline against the reference and the bare-client limit, same broker.

    uv run python bench/pipeline.py [--carts 20000] [--accounts 500] [--rate 0] [--database sqlite|postgresql]
                                    [--systems tienda,reference] [--consume-batch N] [--reference-batch 500]
                                    [--tienda-setting NAME=VALUE ...]
                                    [--no-reference-snapshots]

Starts a Kafka broker (or uses KAFKA_BOOTSTRAP_SERVERS) and, with PostgreSQL, a throwaway server. In
the same run, one after the other on the same broker and topics, each system of --systems (both
by default, Tienda first): Tienda's store, billing and advisor workers, then the reference
(bench/reference.py: the same durable work in plain aiokafka + sqlite3/asyncpg, three processes).
For each: publishes PlanContracted for every account (and waits until the store and billing have
them), measures the idle CPU, then publishes the carts, as fast as possible (--rate 0) or at a
fixed offered rate. Measures from each published ActivationRequested to (a) its ActivationCompleted
on tienda.store.events (broker timestamps) and (b) its charge recorded by billing (Tienda: billing's
outcome for the ChargeScheduled on tienda.ops.outcomes; the reference: the commit time its billing
process writes to its stats file), the CPU each process spends idle and per cart, the peak RSS of
each process and the outbox backlog over time; then prints Tienda ÷ reference. Before the systems,
after a warm-up loop (a broker in service is warm): a bare aiokafka consume -> produce loop over the
same broker, partitions and message size, and the bare one-row-per-transaction commit rate of the
database on the same disk. Prints a table and writes bench/results/<time>.json; the run's files are
removed unless --keep.
"""

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Protocol

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from reference import migrate
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
REFERENCE = Path(__file__).parent / "reference.py"
IDLE_SECONDS = 5.0
BARE_MESSAGES = 20_000
SERVICES = ("store", "billing", "advisor")
SYSTEMS = ("tienda", "reference")
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


def _stat(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name (state is [0], ppid [1], utime [11])."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int | None, *, tree: bool = False) -> float:
    """User + system CPU seconds a process used so far (0 when it is gone); with ``tree``, also its
    children, living and reaped (PostgreSQL's backends)."""
    if pid is None:
        return 0.0
    try:
        fields = _stat(pid)
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if tree:
        ticks += int(fields[13]) + int(fields[14])
        for child in Path("/proc").iterdir():
            try:
                if child.name.isdigit() and int((stat := _stat(int(child.name)))[1]) == pid:
                    ticks += int(stat[11]) + int(stat[12])
            except OSError:
                continue
    return ticks / os.sysconf("SC_CLK_TCK")


def load_average() -> float:
    """The machine's 1-minute load average: other work on a shared machine shows here."""
    return float(Path("/proc/loadavg").read_text().split()[0])


def process_cpu(pids: dict[str, int | None]) -> dict[str, float]:
    """CPU seconds so far of each process (PostgreSQL: the server and its backends)."""
    return {name: cpu_seconds(pid, tree=name == "postgres") for name, pid in pids.items()}


def postmaster_pid(data_dir: Path) -> int | None:
    try:
        return int((data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None


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
    """What each cart became, by time: ActivationCompleted on tienda.store.events (broker timestamps),
    committed by the store, charged by billing. Tienda's commits are read from its outcomes topic;
    the reference's from its stats files (``commits``)."""

    bootstrap: Kafka
    carts: dict[str, float]  # cart event id -> publish time
    commits: Callable[[], tuple[dict[str, float], dict[str, float]]] | None = None
    """The reference: the store's and billing's commit times by cart, so far."""
    completed: dict[str, float] = field(default_factory=dict)
    stored: dict[str, float] = field(default_factory=dict)  # cart event id -> store's commit
    in_worker_ms: dict[str, list[float]] = field(default_factory=lambda: {"store": [], "billing": []})
    charge_of: dict[str, str] = field(default_factory=dict)  # charge event id -> cart event id
    charged: dict[str, float] = field(default_factory=dict)

    async def run(self, wait_seconds: float) -> None:
        topics = [STORE_EVENTS.name] + ([] if self.commits else [OPERATIONS_OUTCOMES.name])
        consumer = AIOKafkaConsumer(
            *topics,
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
                if self.commits:
                    stored, charged = self.commits()
                    self.stored.update((c, t) for c, t in stored.items() if c in self.carts)
                    self.charged.update((c, t) for c, t in charged.items() if c in self.carts)
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


class Stack(Protocol):
    """One system's three processes: Tienda's workers or the reference."""

    name: str

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def pids(self) -> dict[str, int | None]: ...
    async def plans_taken(self, accounts: int, within: float = 120) -> None: ...
    async def backlog(self) -> dict[str, Any]: ...
    def watch(self, bootstrap: Kafka, carts: dict[str, float]) -> Watch: ...


class TiendaStack:
    def __init__(self, work: Path, bootstrap: Kafka, urls: dict[str, str], extra: dict[str, str]) -> None:
        self.name = "tienda"
        self.workers = [
            WorkerProcess(s, worker_env(s, bootstrap, urls[s], heartbeat_seconds="5", **extra), work / f"{s}.log")
            for s in SERVICES
        ]

    def start(self) -> None:
        for worker in self.workers:
            worker.start()

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()

    def pids(self) -> dict[str, int | None]:
        return {w.service: w.pid for w in self.workers}

    async def plans_taken(self, accounts: int, within: float = 120) -> None:
        """Wait until the store and billing handled the accounts' plans, so that the carts are measured alone."""
        deadline = time.monotonic() + within
        takers = [w for w in self.workers if w.service in ("store", "billing")]
        while time.monotonic() < deadline:
            try:
                handled = [
                    (await asyncio.to_thread(w.metrics)).get("tienda_messages_processed_total", 0) for w in takers
                ]
            except OSError:  # a busy worker may answer /metrics late: ask again
                handled = [0]
            if all(count >= accounts for count in handled):
                return
            await asyncio.sleep(0.2)
        raise SystemExit(f"Tienda's workers did not take the {accounts} plans within {within:.0f}s")

    async def backlog(self) -> dict[str, Any]:
        row: dict[str, Any] = {}
        for worker in self.workers:
            try:
                row[worker.service] = (await asyncio.to_thread(worker.metrics)).get("tienda_outbox_backlog")
            except OSError:
                row[worker.service] = None
        return row

    def watch(self, bootstrap: Kafka, carts: dict[str, float]) -> Watch:
        return Watch(bootstrap, carts)


class StatsFile:
    """The JSON lines a reference process writes, read as they come (whole lines only)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self.ready = False
        self.kinds: dict[str, int] = {}
        self.backlog = 0
        self.committed: dict[str, float] = {}

    def poll(self) -> None:
        if not self.path.exists():
            return
        with self.path.open("rb") as stream:
            stream.seek(self._offset)
            data = stream.read()
        complete = data[: data.rfind(b"\n") + 1]
        self._offset += len(complete)
        for line in complete.splitlines():
            entry = json.loads(line)
            self.ready = self.ready or entry.get("ready", False)
            self.kinds = entry.get("kinds", self.kinds)
            self.backlog = entry.get("backlog", self.backlog)
            for cart in entry.get("committed", ()):
                self.committed.setdefault(cart, entry["t"])


class ReferenceStack:
    def __init__(self, work: Path, bootstrap: Kafka, urls: dict[str, str], batch: int, snapshots: bool) -> None:
        self.name = "reference"
        self._work, self._urls = work, urls
        # The reference speaks plain aiokafka to the devkit's broker: only its address.
        self._bootstrap = connection_of(bootstrap).bootstrap_servers
        self._options = ["--batch", str(batch)] + ([] if snapshots else ["--no-snapshots"])
        run = uuid.uuid4().hex[:8]
        self._groups = {s: f"reference-{s}-{run}" for s in SERVICES}
        self.stats = {s: StatsFile(work / f"reference-{s}.stats") for s in SERVICES}
        self._processes: dict[str, subprocess.Popen[bytes]] = {}
        self._logs: list[IO[bytes]] = []

    def start(self, timeout: float = 60) -> None:
        for service in SERVICES:
            log = (self._work / f"reference-{service}.log").open("ab")
            self._logs.append(log)
            self._processes[service] = subprocess.Popen(
                [
                    sys.executable, str(REFERENCE), service, "--bootstrap", self._bootstrap,
                    "--database", self._urls[service], "--stats", str(self.stats[service].path),
                    "--group", self._groups[service], *self._options,
                ],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while not all(stats.ready for stats in self.stats.values()):
            self._check_alive()
            if time.monotonic() > deadline:
                raise SystemExit(f"the reference did not start within {timeout:.0f}s:\n{self.log_tails()}")
            time.sleep(0.2)
            for stats in self.stats.values():
                stats.poll()

    def _check_alive(self) -> None:
        for service, process in self._processes.items():
            if process.poll() is not None:
                raise SystemExit(f"the reference's {service} exited ({process.returncode}):\n{self.log_tails()}")

    def log_tails(self, lines: int = 30) -> str:
        tails = []
        for service in SERVICES:
            path = self._work / f"reference-{service}.log"
            text = path.read_text(errors="replace").splitlines()[-lines:] if path.exists() else []
            tails.append(f"--- {service}\n" + "\n".join(text))
        return "\n".join(tails)

    def stop(self) -> None:
        for process in self._processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self._processes.values():
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        for log in self._logs:
            log.close()

    def pids(self) -> dict[str, int | None]:
        return {service: process.pid for service, process in self._processes.items()}

    async def plans_taken(self, accounts: int, within: float = 120) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            self._check_alive()
            for stats in self.stats.values():
                stats.poll()
            if all(self.stats[s].kinds.get("PlanContracted", 0) >= accounts for s in ("store", "billing")):
                return
            await asyncio.sleep(0.2)
        raise SystemExit(f"the reference did not take the {accounts} plans within {within:.0f}s:\n{self.log_tails()}")

    async def backlog(self) -> dict[str, Any]:
        for stats in self.stats.values():
            stats.poll()
        return {service: stats.backlog for service, stats in self.stats.items()}

    def watch(self, bootstrap: Kafka, carts: dict[str, float]) -> Watch:
        def commits() -> tuple[dict[str, float], dict[str, float]]:
            self._check_alive()
            for stats in self.stats.values():
                stats.poll()
            return self.stats["store"].committed, self.stats["billing"].committed

        return Watch(bootstrap, carts, commits)


async def backlog_sampler(stack: Stack, samples: list[dict[str, Any]], stop: asyncio.Event) -> None:
    started = time.monotonic()
    while not stop.is_set():
        samples.append({"t": round(time.monotonic() - started, 1), **await stack.backlog()})
        await asyncio.sleep(1)


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
    stack: Stack | None = None
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
        names = [*SERVICES, "bare", *(f"reference_{s}" for s in SERVICES)]
        urls = {
            name: postgres.create_database(f"bench_{name}") if postgres else f"sqlite+aiosqlite:///{work / name}.db"
            for name in names
        }
        broker_seconds = time.monotonic() - started
        # The limits first; a first, unmeasured bare loop warms the broker's JIT (a broker in
        # service is warm) so that neither the limit nor the systems pay for it.
        cart_bytes = len(carts(1, ["acc-bench-0000"])[0][2])
        await bare_loop(bootstrap, BARE_MESSAGES, cart_bytes)
        result: dict[str, Any] = {
            "machine": {"cores": os.cpu_count(), "database": args.database},
            "parameters": {
                "carts": args.carts,
                "accounts": args.accounts,
                "offered_rate": args.rate or "max",
                "tienda_consume_batch": args.consume_batch or "default",
                "tienda_settings": args.tienda_setting,
                "reference_batch": args.reference_batch,
                "reference_snapshots": args.reference_snapshots,
            },
            "bare_aiokafka_loop": await bare_loop(bootstrap, BARE_MESSAGES, cart_bytes),
            "bare_database_commits": await bare_commits(urls["bare"]),
        }
        for system in args.systems:
            started = time.monotonic()
            stack = await _stack(system, args, work, bootstrap, urls)
            stack.start()
            start_seconds = round(time.monotonic() - started + broker_seconds, 2)
            pids = stack.pids() | {"kafka": kafka.pid if kafka else None, "bench": os.getpid()}
            if postgres:
                pids["postgres"] = postmaster_pid(postgres.data_dir)
            measured = await measure(args, bootstrap, stack, pids)
            measured["stack_start_seconds"] = start_seconds
            measured["peak_rss_mib"] = {
                name: peak_rss_mib(pid) for name, pid in pids.items() if name not in ("bench", "postgres")
            }
            stack.stop()
            stack = None
            result[system] = measured
        return _with_ratios(result)
    finally:
        if stack:
            stack.stop()
        if postgres:
            postgres.stop()
            postgres.cleanup()
        if kafka:
            kafka.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


async def _stack(system: str, args: argparse.Namespace, work: Path, bootstrap: Kafka, urls: dict[str, str]) -> Stack:
    if system == "tienda":
        extra = {"consume_batch_size": str(args.consume_batch)} if args.consume_batch else {}
        extra |= dict(setting.split("=", 1) for setting in args.tienda_setting)
        return TiendaStack(work, bootstrap, urls, extra)
    reference_urls = {s: _plain_url(urls[f"reference_{s}"]) for s in SERVICES}
    for service, url in reference_urls.items():
        await migrate(service, url)
    return ReferenceStack(work, bootstrap, reference_urls, args.reference_batch, args.reference_snapshots)


def _with_ratios(result: dict[str, Any]) -> dict[str, Any]:
    """Tienda ÷ reference, and each system ÷ the bare loop (cart -> charge recorded per second)."""
    if "tienda" in result and "reference" in result:
        result["tienda_to_reference"] = (
            result["tienda"]["charged_per_second"] / result["reference"]["charged_per_second"]
        )
    for system in SYSTEMS:
        if system in result:
            rate = result[system]["charged_per_second"]
            result[system]["ratio_to_bare_loop"] = rate / result["bare_aiokafka_loop"]["per_second"]
    return result


def _plain_url(url: str) -> str:
    """The reference's URL of a database: no SQLAlchemy driver in it."""
    return url.replace("sqlite+aiosqlite:", "sqlite:", 1).replace("postgresql+asyncpg:", "postgresql:", 1)


async def idle_cpu(pids: dict[str, int | None], seconds: float = IDLE_SECONDS) -> dict[str, float]:
    """CPU ms per second each process spends with nothing to do: the stack's fixed cost."""
    before = process_cpu(pids)
    await asyncio.sleep(seconds)
    return {name: round(1000 * (spent - before[name]) / seconds, 1) for name, spent in process_cpu(pids).items()}


async def measure(
    args: argparse.Namespace, bootstrap: Kafka, stack: Stack, pids: dict[str, int | None]
) -> dict[str, Any]:
    """Plans first (waited for), the idle stack, then the carts; what the watcher saw, by stage."""
    accounts = [f"acc-bench-{n:04d}" for n in range(args.accounts)]
    await produce(bootstrap, ACCOUNT_PLANS.name, plans(accounts))
    await stack.plans_taken(len(accounts))
    idle = await idle_cpu(pids)
    batch = carts(args.carts, accounts)
    watch = stack.watch(bootstrap, {event_id: 0.0 for _, event_id, _ in batch})
    stop, backlog = asyncio.Event(), list[dict[str, Any]]()
    sampler = asyncio.create_task(backlog_sampler(stack, backlog, stop))
    watcher = asyncio.create_task(watch.run(args.timeout))
    await asyncio.sleep(1)  # let the watcher's consumer reach the end of the topics before the first cart
    started = time.time()
    load_before = load_average()
    cpu_before = process_cpu(pids)
    sent_at = await produce(bootstrap, ACTIVATION_REQUESTS.name, [(a, v) for a, _, v in batch], args.rate)
    watch.carts.update({event_id: at for (_, event_id, _), at in zip(batch, sent_at, strict=True)})
    await watcher
    finished = time.time()
    cpu_ms_per_cart = {
        name: round(1000 * (spent - cpu_before[name]) / args.carts, 2) for name, spent in process_cpu(pids).items()
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
        "charged_per_second": len(charged) / max(last - started, 1e-9),
        "to_activation_completed": summary(completed),
        "to_charge_recorded": summary(charged),
        "stages": {
            "cart_to_store_committed": summary(stored),
            "store_handling_in_worker": summary(watch.in_worker_ms["store"]),
            "store_committed_to_relayed": summary(relayed),
            "relayed_to_billing_committed": summary(billed),
            "billing_handling_in_worker": summary(watch.in_worker_ms["billing"]),
        },
        "cpu_ms_per_cart": cpu_ms_per_cart,
        "load_average": {"before_carts": load_before, "after_carts": load_average()},
        "cpu_ms_per_cart_services": round(sum(cpu_ms_per_cart[s] for s in SERVICES), 2),
        "idle_cpu_ms_per_second": idle,
        "outbox_backlog": backlog,
        "charge_latency_by_send_second": over_time,
    }


def show(result: dict[str, Any]) -> None:
    print(f"\nTienda pipeline, {result['parameters']} on {result['machine']}")
    bare, commits = result["bare_aiokafka_loop"]["per_second"], result["bare_database_commits"]["per_second"]
    print(f"  bare aiokafka loop: {bare:.0f}/s; bare database commits: {commits:.0f}/s")
    for system in SYSTEMS:
        if system not in result:
            continue
        r = result[system]
        print(f"\n  {system}: stack started in {r['stack_start_seconds']} s")
        print(
            f"  throughput (cart -> charge recorded): {r['charged_per_second']:.0f}/s "
            f"({r['to_charge_recorded']['count']} of {result['parameters']['carts']} carts); "
            f"ratio to the bare loop {r['ratio_to_bare_loop']:.1%}"
        )
        print(f"  {'from the cart published':<32}{'count':>7}{'p50':>9}{'p95':>9}{'p99':>9}{'max':>9}  (ms)")
        rows = [(stage, r[stage]) for stage in ("to_activation_completed", "to_charge_recorded")]
        for name, s in [*rows, *r["stages"].items()]:
            figures = "".join(f"{s[key]:>9.1f}" for key in ("p50_ms", "p95_ms", "p99_ms", "max_ms"))
            print(f"  {name:<32}{s['count']:>7}{figures}")
        print(f"  CPU ms per cart: {json.dumps(r['cpu_ms_per_cart'])} (services: {r['cpu_ms_per_cart_services']})")
        print(f"  idle CPU ms per second: {json.dumps(r['idle_cpu_ms_per_second'])}")
        print(f"  machine load average (1 min) before / after the carts: {json.dumps(r['load_average'])}")
        print(f"  peak RSS (MiB): {json.dumps({k: round(v) if v else v for k, v in r['peak_rss_mib'].items()})}")
        peaks = {s: max((row.get(s) or 0 for row in r["outbox_backlog"]), default=0) for s in SERVICES}
        print(f"  outbox backlog peak (rows): {json.dumps(peaks)}")
    if "tienda_to_reference" in result:
        t, ref = result["tienda"], result["reference"]
        print(
            f"\n  Tienda ÷ reference (cart -> charge recorded): {t['charged_per_second']:.0f}/s ÷ "
            f"{ref['charged_per_second']:.0f}/s = {result['tienda_to_reference']:.1%}; CPU ms per cart of the "
            f"services {t['cpu_ms_per_cart_services']} vs {ref['cpu_ms_per_cart_services']}"
        )


def systems(value: str) -> list[str]:
    chosen = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in SYSTEMS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"systems are a comma-separated choice of {', '.join(SYSTEMS)}")
    return sorted(set(chosen), key=SYSTEMS.index)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--carts", type=int, default=20000)
    parser.add_argument("--accounts", type=int, default=500)
    parser.add_argument("--rate", type=float, default=0, help="offered carts per second; 0 = as fast as possible")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--systems", type=systems, default=list(SYSTEMS), help="tienda, reference or both (default)")
    parser.add_argument("--consume-batch", type=int, help="Tienda's CONSUME_BATCH_SIZE (default: its own, 500)")
    parser.add_argument(
        "--tienda-setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting of Tienda's three workers (repeatable), e.g. publish_linger_ms=5",
    )
    parser.add_argument("--reference-batch", type=int, default=500, help="the reference's records per transaction")
    parser.add_argument(
        "--no-reference-snapshots",
        dest="reference_snapshots",
        action="store_false",
        help="the reference's store publishes no PlanSnapshot (Tienda's does): what the snapshots cost",
    )
    parser.add_argument("--timeout", type=float, default=900, help="give up waiting after this many seconds")
    parser.add_argument("--keep", action="store_true", help="keep the broker's, workers' and databases' files")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    show(result)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{args.database}-{'-'.join(args.systems)}.json"
    path.write_text(json.dumps(result, indent=2, default=str))
    print(f"  written {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
