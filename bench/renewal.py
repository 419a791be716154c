"""Renewal day: N accounts renewing on the same date, renewed in one run, with the loop watched.

    uv run python bench/renewal.py [--accounts 2000] [--database sqlite|postgresql]
                                   [--chunk 200] [--budget 0.2] [--profile FILE] [--keep] [--gc-freeze]
                                   [--seeded FILE]

Seeds billing's database (a fresh SQLite file, or a database on a throwaway PostgreSQL server of
the devkit) with N accounts renewing on 28 February 2027, through billing's own handlers in
batches (the mix of tests/renewal_day.py: plan, 0 to 3 add-ons paid at renewal, unpaid online
orders to carry, credit, billing data, cards). Over 2,000 accounts (SQLite only, a multiple of
2,000), 2,000 are seeded through the handlers and their rows copied with new ids up to N
(``renewal_copies``: 100,000 in about a minute instead of 20). ``--seeded FILE`` keeps a copy of
the seeded database there, and later runs start from a copy of it. Then runs ``renew_due_accounts`` for that date in
this process, as the worker runs it, with the event-loop watchdog running beside it, and prints:
accounts/s, total seconds, CPU ms and SQL statements per account, p50/p99/max time per renewal
transaction, the event-loop lag (p99 and max, wall clock, and the most CPU this process spent
while the loop was held, which a machine shared with other work does not inflate), and the
process's peak RSS. ``--budget 0`` renews one account per
transaction, as renewal did before it was batched (the "before" figure). ``--gc-freeze`` freezes
what seeding left (``gc.freeze()``) before the run, so that the run's full garbage collections
do not scan it (they held the loop 200-290 ms once per run of 2,000 accounts without it).

The broker side (billing's consumer keeping its group, carts flowing during the run) is checked
by tests/billing/test_renewal_day.py against a real broker; this script measures the database work.
"""

import argparse
import asyncio
import cProfile
import gc
import resource
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.renewal_copies import copy_accounts  # noqa: E402
from tests.billing.conftest import at_noon  # noqa: E402
from tests.renewal_day import RENEWAL, account_ids, seed  # noqa: E402

from tienda.billing.adapters.tables import billing_accounts, invoices  # noqa: E402
from tienda.billing.bootstrap import definition  # noqa: E402
from tienda.billing.config import BillingSettings  # noqa: E402
from tienda.billing.service_layer.renewal import renew_due_accounts  # noqa: E402
from tienda.billing.service_layer.renewal_runs import RenewalProgress  # noqa: E402
from tienda.messaging.database import create_engine, session_factory  # noqa: E402
from tienda.messaging.migrations import upgrade_to_head  # noqa: E402
from tienda.messaging.unit_of_work import UnitOfWork  # noqa: E402
from tienda.messaging.worker import ServiceDefinition  # noqa: E402


class CpuWatchdog:
    """The loop watchdog's measure (how late the loop woke, wall clock), and beside it the CPU this
    process spent in that time: on a machine shared with other work the wall lag also counts the
    time the OS gave the CPU to others, the CPU figure only what the loop was held by here."""

    def __init__(self, interval: float = 0.01) -> None:
        self.interval = interval
        self.worst = self.worst_cpu = 0.0
        self.lags: list[float] = []
        self.cpu_holds: list[tuple[float, float]] = []
        """(CPU seconds the loop was held, seconds since the watchdog started) of each wake-up."""

    async def run(self) -> None:
        began = time.perf_counter()
        while True:
            asked, cpu = time.perf_counter(), time.process_time()
            await asyncio.sleep(self.interval)
            lag = max(time.perf_counter() - asked - self.interval, 0.0)
            self.lags.append(lag)
            self.worst = max(self.worst, lag)
            held = time.process_time() - cpu
            self.worst_cpu = max(self.worst_cpu, held)
            self.cpu_holds.append((held, asked - began))


class FullCollections:
    """CPU each full (generation 2) garbage collection took: ``gc.callbacks``."""

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:  # the oldest generation only
            return
        if phase == "start":
            self._started = time.process_time()
        else:
            self.seconds.append(time.process_time() - self._started)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


class TimedUnitOfWork(UnitOfWork):
    """Records how long each transaction took, from its start to its commit or rollback."""

    durations: list[float] = []  # noqa: RUF012 - one list for the run
    commits: list[float] = []  # noqa: RUF012

    async def commit(self) -> None:
        started = time.perf_counter()
        await super().commit()
        TimedUnitOfWork.commits.append(time.perf_counter() - started)

    async def __aenter__(self) -> "TimedUnitOfWork":
        self._started = time.perf_counter()
        await super().__aenter__()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await super().__aexit__(kind, error, traceback)
        TimedUnitOfWork.durations.append(time.perf_counter() - self._started)


async def renewal_invoices(engine: Any) -> int:
    async with engine.connect() as connection:
        query = select(func.count()).select_from(invoices).where(invoices.c.kind == "renewal")
        return int(await connection.scalar(query) or 0)


THROUGH_HANDLERS = 2000
"""Accounts seeded through billing's handlers; more are copies of their rows (``renewal_copies``)."""


async def seeded_accounts(engine: Any) -> list[str]:
    """The accounts of a database seeded by an earlier run (``--seeded``)."""
    async with engine.connect() as connection:
        return list((await connection.scalars(select(billing_accounts.c.account_id))).all())


async def seeded_database(
    args: argparse.Namespace, billing: ServiceDefinition, url: str, file: Path
) -> tuple[AsyncEngine, list[str], str]:
    """The engine of a database with the run's accounts (seeded, or copied from ``--seeded``), and
    the accounts."""
    seeded_copy = Path(args.seeded) if args.seeded else None
    if seeded_copy is not None and seeded_copy.exists():
        shutil.copyfile(seeded_copy, file)
        engine = create_engine(url)
        await upgrade_to_head(engine, billing.migrations)
        return engine, await seeded_accounts(engine), "copied"
    engine = create_engine(url)
    await upgrade_to_head(engine, billing.migrations)
    through_handlers = min(args.accounts, THROUGH_HANDLERS)
    if args.accounts % through_handlers:
        raise SystemExit(f"--accounts over {THROUGH_HANDLERS} must be a multiple of it (copies of them)")
    accounts = account_ids(through_handlers, "acc-bench")
    await seed(billing, engine, accounts)
    if args.accounts > through_handlers:
        if args.database != "sqlite":
            raise SystemExit(f"over {THROUGH_HANDLERS} accounts are seeded on SQLite only (copies of rows)")
        await engine.dispose()
        copy_accounts(file, args.accounts // through_handlers - 1, through_handlers)
        engine = create_engine(url)
        accounts = await seeded_accounts(engine)
    if seeded_copy is not None:
        with sqlite3.connect(file) as source, sqlite3.connect(seeded_copy) as copy:
            source.backup(copy)  # the WAL's pages too
    return engine, accounts, "seeded"


async def run(args: argparse.Namespace) -> None:  # noqa: PLR0915 - one run, told in order
    work = Path(tempfile.mkdtemp(prefix="tienda-bench-renewal-"))
    postgres = None
    try:
        if args.database == "postgresql":
            from tienda.devkit.postgres import LocalPostgres  # noqa: PLC0415

            postgres = LocalPostgres()
            postgres.start()
            url = postgres.create_database("bench_renewal")
        else:
            url = f"sqlite+aiosqlite:///{work}/billing.db"
        billing = definition(BillingSettings())
        seeding = time.perf_counter()
        engine, accounts, how = await seeded_database(args, billing, url, work / "billing.db")
        if args.gc_freeze:
            gc.collect()
            gc.freeze()  # what seeding left is never scanned by the collector again
        seeded = time.perf_counter() - seeding
        print(f"{how} {len(accounts)} accounts in {seeded:.1f}s ({args.database})", flush=True)

        statements = [0]

        @event.listens_for(engine.sync_engine, "before_cursor_execute")
        def count(*_: Any) -> None:
            statements[0] += 1

        sessions = session_factory(engine)
        unit_of_work: Callable[[], UnitOfWork] = lambda: TimedUnitOfWork(sessions, billing.tables, billing.name)  # noqa: E731
        watchdog = CpuWatchdog()
        collections = FullCollections()
        gc.callbacks.append(collections)
        watching = asyncio.create_task(watchdog.run())
        await asyncio.sleep(0.05)
        TimedUnitOfWork.durations, TimedUnitOfWork.commits = [], []
        progress = RenewalProgress(RENEWAL)
        profiler = cProfile.Profile() if args.profile else None
        started, cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        await renew_due_accounts(
            unit_of_work, RENEWAL, at_noon(RENEWAL), progress, chunk=args.chunk, budget=args.budget
        )
        if profiler:
            profiler.disable()
            profiler.dump_stats(args.profile)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        gc.callbacks.remove(collections)
        await asyncio.sleep(0.05)
        watching.cancel()
        async with engine.connect() as connection:
            issued = await connection.scalar(
                select(func.count()).select_from(invoices).where(invoices.c.kind == "renewal")
            )
        await engine.dispose()
        durations = [d * 1000 for d in TimedUnitOfWork.durations]
        commits = [d * 1000 for d in TimedUnitOfWork.commits]
        rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        holds = [f"{at:.1f}s ({held * 1000:.0f} ms)" for held, at in watchdog.cpu_holds if held > 0.1]
        print(
            f"{args.database}: {len(accounts)} accounts, {progress.invoices} renewal invoices "
            f"({issued} in the database), failed {progress.failed}\n"
            f"  total {seconds:.1f}s   {len(accounts) / seconds:.0f} accounts/s   "
            f"{statements[0] / len(accounts):.1f} SQL statements/account   "
            f"{1000 * cpu / len(accounts):.1f} CPU ms/account (this process)\n"
            f"  transactions {len(durations)} (chunk {args.chunk}, budget {args.budget * 1000:.0f} ms): "
            f"p50 {statistics.median(durations):.1f} ms  p99 {percentile(durations, 0.99):.1f} ms  "
            f"max {max(durations):.1f} ms; their commits (snapshots, outbox, fsync) p50 "
            f"{statistics.median(commits):.1f} ms  max {max(commits):.1f} ms\n"
            f"  event-loop lag p99 {percentile(watchdog.lags, 0.99) * 1000:.0f} ms, max {watchdog.worst * 1000:.0f} ms "
            f"(wall); max CPU while the loop was held {watchdog.worst_cpu * 1000:.0f} ms   "
            f"peak RSS {rss_mib:.0f} MiB\n"
            f"  the loop held over 100 ms of CPU {len(holds)} time(s)"
            + (f", at {', '.join(holds)} into the {seconds:.1f}s run" if holds else "")
            + f"\n  full garbage collections {len(collections.seconds)}"
            + (
                f", the longest {max(collections.seconds) * 1000:.0f} ms CPU, "
                f"{sum(s > 0.1 for s in collections.seconds)} over 100 ms"
                if collections.seconds
                else ""
            ),
            flush=True,
        )
        if issued != len(accounts):
            raise SystemExit(f"{issued} renewal invoices for {len(accounts)} accounts: renewal is wrong")
    finally:
        if postgres:
            postgres.stop()
            postgres.cleanup()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--chunk", type=int, default=200, help="accounts read per step")
    parser.add_argument("--budget", type=float, default=0.2, help="seconds a renewal transaction may take")
    parser.add_argument("--profile", help="write a cProfile of the renewal run to this file")
    parser.add_argument("--keep", action="store_true", help="keep the SQLite file")
    parser.add_argument(
        "--seeded",
        help="SQLite only: a copy of the seeded database; if the file exists the run starts from a copy of it "
        "(no seeding: --accounts is ignored), else the run seeds and saves its database there first",
    )
    parser.add_argument(
        "--gc-freeze",
        action="store_true",
        help="gc.freeze() after seeding: the run's full garbage collections skip the seeded heap",
    )
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
