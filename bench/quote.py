"""Cart quotes under load: latency of POST /accounts/{id}/cart/quote at a fixed rate while carts flow.

    uv run python bench/quote.py                          # its own Kafka from the jars, SQLite
    uv run python bench/quote.py --rate 200 --seconds 20 --carts-per-second 50
    uv run python bench/quote.py --postgres               # a throwaway PostgreSQL
    uv run python bench/quote.py --read-processes 0       # the worker answers the quotes itself

Starts a broker (unless KAFKA_BOOTSTRAP_SERVERS is set), one store worker process (which starts
``--read-processes`` read processes that answer the quotes), publishes a
PlanContracted for each account and today's UF value and waits until the store quotes in pesos;
then, for ``--seconds``, offers quotes at ``--rate`` per second (open loop: each quote is sent at
its scheduled moment whatever the earlier ones did, and its latency counts from that moment, so a
stall is not hidden) of carts of 1 to 4 lines, while a producer publishes ActivationRequested at
``--carts-per-second`` to the same worker. Prints p50, p90, p99 and max latency, the rate achieved,
the errors, how many carts the worker activated meanwhile, the CPU the worker and its read
processes spent and the 1-minute load average. The client runs on the same machine.
"""

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from store_activations import publish  # noqa: E402
from tests.samples import activation_requested  # noqa: E402
from tests.samples_store import plan_contracted  # noqa: E402

from tienda.contracts.business_day import business_date  # noqa: E402
from tienda.contracts.envelope import new_envelope  # noqa: E402
from tienda.contracts.messages.billing import UfValuePublished  # noqa: E402
from tienda.contracts.topics import ACCOUNT_PLANS, ACTIVATION_REQUESTS, PLATFORM_ACCOUNT, UF_VALUES  # noqa: E402
from tienda.devkit.kafka import LocalKafka  # noqa: E402
from tienda.devkit.postgres import LocalPostgres  # noqa: E402
from tienda.devkit.workers import WorkerProcess, worker_env  # noqa: E402
from tienda.messaging.codec import encode  # noqa: E402
from tienda.messaging.connection import Kafka, connection_of  # noqa: E402
from tienda.messaging.provisioning import ensure_topics  # noqa: E402
from tienda.messaging.settings import ClientSettings  # noqa: E402
from tienda.store.adapters.tables import activations  # noqa: E402

TOKEN = "bench-token"  # noqa: S105 - a token of this throwaway worker
SKUS = [("USR-EXTRA", 5), ("TRB-EXTRA", 50), ("DTE-100", 3), ("MOD-INV", 1), ("MOD-CRM", 1), ("RSO-EXTRA", 2)]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds of a process so far (Linux /proc), 0 when unknown."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int | None) -> list[int]:
    """The processes ``pid`` started (the store worker starts its read process), Linux /proc."""
    if pid is None:
        return []
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            found += [int(child) for child in (task / "children").read_text().split()]
    return found


def store_cpu_seconds(pid: int | None) -> tuple[float, float]:
    """CPU seconds so far of the worker and of the processes it started (its read process)."""
    return cpu_seconds(pid), sum(cpu_seconds(child) for child in children(pid))


async def one_at_a_time(client: httpx.AsyncClient, accounts: list[str], count: int) -> list[float]:
    """Quotes sent one after the other, no carts flowing: the latency of a quote on an idle worker."""
    rng = random.Random(3)  # noqa: S311 - sample data
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        response = await client.post(f"/accounts/{rng.choice(accounts)}/cart/quote", json=a_cart(rng))
        response.raise_for_status()
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def figures(latencies: list[float]) -> str:
    return (
        f"p50 {percentile(latencies, 0.50):.1f}  p90 {percentile(latencies, 0.90):.1f}  "
        f"p99 {percentile(latencies, 0.99):.1f}  max {max(latencies):.1f}"
    )


class KeptConnections:
    """A lean HTTP/1.1 client for the load phase: ``size`` kept-alive connections, each carrying one
    request at a time (httpx cost the benchmark about as much CPU per quote as the worker spent,
    on the same two cores). Only what this benchmark needs: POST of JSON, Content-Length answers."""

    def __init__(self, url: str, token: str, size: int = 64) -> None:
        parsed = httpx.URL(url)
        self.host, self.port, self.token, self.size = parsed.host, parsed.port or 80, token, size
        self._idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()

    async def open(self) -> None:
        for _ in range(self.size):
            self._idle.put_nowait(await asyncio.open_connection(self.host, self.port))

    async def close(self) -> None:
        while not self._idle.empty():
            _, writer = self._idle.get_nowait()
            writer.close()

    async def post(self, path: str, body: bytes) -> int:
        """The answer's status code (its body is read and dropped); a broken connection is replaced."""
        reader, writer = await self._idle.get()
        try:
            status = await self._exchange(reader, writer, path, body)
        except (OSError, ValueError, asyncio.IncompleteReadError):
            writer.close()
            self._idle.put_nowait(await asyncio.open_connection(self.host, self.port))
            raise
        self._idle.put_nowait((reader, writer))
        return status

    async def _exchange(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str, body: bytes
    ) -> int:
        writer.write(
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nAuthorization: Bearer {self.token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        status = int((await reader.readline()).split(b" ", 2)[1])
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        await reader.readexactly(length)
        return status


LAG = "tienda_event_loop_lag_seconds_bucket"


async def loop_lag_buckets(client: httpx.AsyncClient) -> dict[float, float]:
    """The worker's event-loop lag histogram so far: samples at or under each bound, in seconds."""
    text = (await client.get("/metrics")).text
    buckets = {}
    for line in text.splitlines():
        if line.startswith(LAG + "{"):
            bound = line.split('le="', 1)[1].split('"', 1)[0]
            buckets[float(bound)] = float(line.rsplit(" ", 1)[1])
    return buckets


def loop_held(before: dict[float, float], after: dict[float, float]) -> str:
    """How often the loop woke late by more than 10, 50 and 100 ms between two readings."""
    total = after[float("inf")] - before[float("inf")]
    over = {bound: total - (after[bound] - before[bound]) for bound in (0.01, 0.05, 0.1)}
    return (
        f"{total:.0f} samples (every 25 ms when idle); late > 10 ms: {over[0.01]:.0f}, > 50 ms: {over[0.05]:.0f}, "
        f"> 100 ms: {over[0.1]:.0f}"
    )


def a_cart(rng: random.Random) -> dict[str, object]:
    lines = rng.sample(SKUS, rng.randint(1, 4))
    mode = rng.choice(["online", "at_renewal"])
    return {"payment_mode": mode, "lines": [{"sku": sku, "quantity": rng.randint(1, most)} for sku, most in lines]}


async def wait_until_priced(client: httpx.AsyncClient, account_id: str, deadline: float = 90) -> None:
    started, cart = time.monotonic(), {"payment_mode": "online", "lines": [{"sku": "USR-EXTRA", "quantity": 1}]}
    while True:
        response = await client.post(f"/accounts/{account_id}/cart/quote", json=cart)
        if response.status_code == 200 and response.json()["uf_value_known"]:
            return
        if time.monotonic() - started > deadline:
            raise TimeoutError(f"the store did not quote {account_id} in pesos within {deadline}s: {response.text}")
        await asyncio.sleep(0.2)


async def offer_quotes(url: str, accounts: list[str], rate: float, seconds: float) -> tuple[list[float], int, float]:
    """Quotes at ``rate``/s for ``seconds``; latencies in ms from each scheduled moment, errors, elapsed."""
    client = KeptConnections(url, TOKEN)
    await client.open()
    try:
        return await _offer(client, accounts, rate, seconds)
    finally:
        await client.close()


async def _offer(
    client: KeptConnections, accounts: list[str], rate: float, seconds: float
) -> tuple[list[float], int, float]:
    rng = random.Random(20)  # noqa: S311 - sample data
    latencies: list[float] = []
    errors = 0
    running: set[asyncio.Task[None]] = set()

    async def one(at: float, account_id: str, cart: dict[str, object]) -> None:
        nonlocal errors
        try:
            status = await client.post(f"/accounts/{account_id}/cart/quote", json.dumps(cart).encode())
        except (OSError, ValueError, asyncio.IncompleteReadError):
            errors += 1
            return
        latencies.append((time.perf_counter() - at) * 1000)
        if status != 200:
            errors += 1

    started = time.perf_counter()
    for n in range(int(rate * seconds)):
        at = started + n / rate
        await asyncio.sleep(max(0.0, at - time.perf_counter()))
        task = asyncio.create_task(one(at, rng.choice(accounts), a_cart(rng)))
        running.add(task)
        task.add_done_callback(running.discard)
    await asyncio.gather(*running)
    return latencies, errors, time.perf_counter() - started


async def flow_carts(kafka: Kafka, accounts: list[str], per_second: float, seconds: float) -> int:
    """ActivationRequested at ``per_second`` for ``seconds``, a batch every 100 ms; how many were sent."""
    rng = random.Random(7)  # noqa: S311 - sample data
    producer = AIOKafkaProducer(acks="all", enable_idempotence=True, **connection_of(kafka).client_options())
    await producer.start()
    sent, started = 0, time.perf_counter()
    try:
        while time.perf_counter() - started < seconds:
            due = int((time.perf_counter() - started) * per_second) - sent
            carts = [activation_requested(rng.choice(accounts), ("USR-EXTRA", rng.randint(1, 3))) for _ in range(due)]
            for cart in carts:
                await producer.send(ACTIVATION_REQUESTS.name, encode(cart), key=cart.account_id.encode())
            sent += len(carts)
            await asyncio.sleep(0.1)
        await producer.flush()
    finally:
        await producer.stop()
    return sent


async def idle_quotes(
    client: httpx.AsyncClient, pid: int | None, accounts: list[str]
) -> tuple[list[float], float, float]:
    """300 quotes one at a time on the idle store: latencies, CPU ms a quote, the idle store's own CPU s per s."""
    store_cpu = sum(store_cpu_seconds(pid))
    await asyncio.sleep(5)
    background = (sum(store_cpu_seconds(pid)) - store_cpu) / 5  # heartbeats, polls: CPU s per s
    store_cpu, started = sum(store_cpu_seconds(pid)), time.perf_counter()
    idle = await one_at_a_time(client, accounts, 300)
    spent = sum(store_cpu_seconds(pid)) - store_cpu - background * (time.perf_counter() - started)
    return idle, spent / len(idle) * 1000, background


def print_cpu(
    worker_cpu: float, reads_cpu: float, bench_cpu: float, answered: int, elapsed: float, loads: tuple[float, float]
) -> None:
    load_before, load_after = loads
    store_cpu = worker_cpu + reads_cpu
    print(
        f"cpu         under load: store {store_cpu:.1f} s ({store_cpu / answered * 1000:.1f} ms a quote "
        f"answered, carts included): read processes {reads_cpu:.1f} s ({reads_cpu / answered * 1000:.1f} ms "
        f"a quote), worker {worker_cpu:.1f} s; benchmark client {bench_cpu:.1f} s; over {elapsed:.1f} s"
    )
    print(f"load        1-minute load average {load_before:.1f} before the load phase, {load_after:.1f} after")


async def bench(kafka: Kafka, database_url: str, args: argparse.Namespace, log: Path) -> None:
    await ensure_topics(kafka)
    env = worker_env("store", kafka, database_url, log_json="false", api_tokens=f'{{"{TOKEN}": ["*"]}}')
    env["TIENDA_STORE_READ_PROCESSES"] = str(args.read_processes)
    worker = WorkerProcess("store", env, log)
    worker.start()
    engine = create_async_engine(database_url)
    try:
        run = uuid.uuid4().hex[:6]
        accounts = [f"acc-quote-{run}-{n:03d}" for n in range(args.accounts)]
        await publish(kafka, ACCOUNT_PLANS.name, [(a, encode(plan_contracted(a))) for a in accounts])
        today = business_date(datetime.now(UTC))
        uf = new_envelope(
            UfValuePublished(uf_date=today, clp_per_uf=Decimal("39123.45")),
            account_id=PLATFORM_ACCOUNT,
            producer="indicator-feed",
        )
        await publish(kafka, UF_VALUES.name, [(PLATFORM_ACCOUNT, encode(uf))])
        print("plans and UF value published; waiting until the store quotes in pesos", flush=True)
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with httpx.AsyncClient(base_url=worker.url, headers=headers, limits=limits, timeout=30) as client:
            for account_id in (accounts[0], accounts[-1]):
                await wait_until_priced(client, account_id)
            idle, idle_cpu_ms, background = await idle_quotes(client, worker.pid, accounts)
            print(f"quoting at {args.rate:.0f}/s for {args.seconds:.0f}s while carts flow", flush=True)
            lag_before = await loop_lag_buckets(client)
            (worker_cpu, reads_cpu), bench_cpu = store_cpu_seconds(worker.pid), time.process_time()
            load_before = os.getloadavg()[0]
            activated = select(func.count()).select_from(activations).where(activations.c.account_id.in_(accounts))
            async with engine.connect() as connection:
                before = await connection.scalar(activated) or 0
            carts = asyncio.create_task(flow_carts(kafka, accounts, args.carts_per_second, args.seconds))
            latencies, errors, elapsed = await offer_quotes(worker.url, accounts, args.rate, args.seconds)
            sent = await carts
            worker_after, reads_after = store_cpu_seconds(worker.pid)
            worker_cpu, reads_cpu = worker_after - worker_cpu, reads_after - reads_cpu
            bench_cpu = time.process_time() - bench_cpu
            load_after = os.getloadavg()[0]
            lag_after = await loop_lag_buckets(client)
            async with engine.connect() as connection:
                after = await connection.scalar(activated) or 0
    finally:
        await engine.dispose()
        worker.stop()
    layout = f"a store worker and {args.read_processes} read process(es)" if args.read_processes else "one store worker"
    print(f"database    {database_url.split('://', maxsplit=1)[0]}; {layout}; {args.accounts} accounts")
    print(
        f"quotes      {len(latencies)} offered at {args.rate:.0f}/s over {elapsed:.1f}s: "
        f"{len(latencies) / elapsed:.0f}/s answered"
    )
    print(
        f"latency ms  p50 {percentile(latencies, 0.50):.1f}  p90 {percentile(latencies, 0.90):.1f}  "
        f"p99 {percentile(latencies, 0.99):.1f}  max {max(latencies):.1f}  mean {statistics.fmean(latencies):.1f}"
    )
    print(
        f"idle        300 quotes one at a time, ms: {figures(idle)}; store CPU {idle_cpu_ms:.1f} ms a quote "
        f"(less the {background * 1000:.0f} ms/s the idle store spends)"
    )
    print_cpu(worker_cpu, reads_cpu, bench_cpu, len(latencies), elapsed, (load_before, load_after))
    print(f"loop lag    under load: {loop_held(lag_before, lag_after)}")
    print(f"errors      {errors} (refused connections, timeouts, answers other than 200: not in the latencies)")
    print(
        f"carts       {sent} published at {args.carts_per_second:.0f}/s meanwhile; "
        f"{after - before} activated by the end"
    )
    print(f"target      p99 <= 50 ms: {'met' if percentile(latencies, 0.99) <= 50 else 'NOT met'}")


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    cli.add_argument("--rate", type=float, default=200, help="quotes offered per second")
    cli.add_argument("--seconds", type=float, default=20)
    cli.add_argument("--carts-per-second", type=float, default=50)
    cli.add_argument("--accounts", type=int, default=50)
    cli.add_argument("--database-url", default="", help="default: a SQLite file in a temporary directory")
    cli.add_argument("--postgres", action="store_true", help="start a throwaway PostgreSQL and use it")
    cli.add_argument(
        "--read-processes", type=int, default=1, help="TIENDA_STORE_READ_PROCESSES (0: the worker answers)"
    )
    args = cli.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tienda-bench-quote-"))
    database_url = args.database_url or f"sqlite+aiosqlite:///{work / 'store.db'}"
    postgres = LocalPostgres() if args.postgres else None
    if postgres is not None:
        postgres.start()
        database_url = postgres.create_database("bench_quote")
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    kafka: Kafka = ClientSettings().kafka() if external else ""
    local = None if external else LocalKafka(work / "kafka")
    if local is not None:
        kafka = local.start(timeout=90)
    try:
        asyncio.run(bench(kafka, database_url, args, work / "store.log"))
    finally:
        if local is not None:
            local.stop()
        if postgres is not None:
            postgres.stop()


if __name__ == "__main__":
    main()
