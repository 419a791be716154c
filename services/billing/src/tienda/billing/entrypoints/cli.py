"""Billing's operator commands (Typer): arguments in, one call of the service layer, a report out.

    python -m tienda.billing.renewal run --date 2027-01-31 [--early]

They talk to billing's database (``TIENDA_BILLING_DATABASE_URL``, or the SQLite file in
``TIENDA_BILLING_DATA_DIR``), migrated first, through the same service-layer functions the
worker uses. The messages they cause wait in the outbox; a running billing worker publishes
them within a second (a stopped one, when it starts).
"""

import asyncio
import json
import shutil
import sys
import tempfile
from collections.abc import Sequence
from datetime import date
from typing import IO, Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from tienda.billing import SERVICE
from tienda.billing.adapters.tables import MIGRATIONS, messaging
from tienda.billing.config import BillingSettings
from tienda.billing.service_layer.renewal import OnRenewed, Renewed, renew_due_accounts
from tienda.billing.service_layer.renewal_runs import RenewalProgress, ahead_of_today
from tienda.messaging.clock import Clock, system_clock
from tienda.messaging.database import create_engine, session_factory
from tienda.messaging.migrations import upgrade_to_head
from tienda.messaging.unit_of_work import UnitOfWork

app = typer.Typer(help="Billing's operator commands.", no_args_is_help=True, add_completion=False)
renewal = typer.Typer(help="Renewal invoices.", no_args_is_help=True, add_completion=False)
app.add_typer(renewal, name="renewal")


@renewal.callback()
def _renewal() -> None:
    """Renewal invoices, as the worker's scheduler issues them."""


@renewal.command("run")
def run_renewal(
    on: Annotated[str, typer.Option("--date", help="the renewal date, YYYY-MM-DD", show_default=False)],
    early: Annotated[
        bool, typer.Option("--early", help="run a date after today now (issues every invoice due by then)")
    ] = False,
) -> None:
    """Issue every renewal invoice due by --date, once per account and period (running a date twice is
    harmless). A date after today is refused unless --early: a mistyped year would invoice months ahead."""
    try:
        day = date.fromisoformat(on)
    except ValueError:
        raise typer.BadParameter(f"{on!r} is not a date: write it as YYYY-MM-DD", param_hint="--date") from None
    if not early and (ahead := ahead_of_today(day, system_clock())):
        raise typer.BadParameter(f"{ahead}; check the date, or add --early to mean it", param_hint="--date")
    with tempfile.TemporaryFile("w+", encoding="utf-8") as lines:  # one line per invoice, not kept in memory
        with Progress(
            TextColumn("renewal {task.fields[day]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("accounts"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=False,
        ) as bar:
            done = asyncio.run(renew_on(day, BillingSettings(), watch=bar, on_renewed=_write_to(lines)))
        lines.seek(0)  # printed once the bar is done, so that they do not mix with it on a terminal
        shutil.copyfileobj(lines, sys.stdout)
    print(f"{done.invoices} renewal invoice(s) for {day}", file=sys.stderr)


def _write_to(lines: IO[str]) -> OnRenewed:
    def write(renewed: Sequence[Renewed]) -> None:
        for invoice in renewed:
            line = {
                "account_id": invoice.account_id,
                "invoice_id": invoice.invoice_id,
                "period": f"{invoice.period_start} to {invoice.period_end}",
                "status": invoice.status,
            }
            lines.write(json.dumps(line) + "\n")

    return write


async def renew_on(
    day: date,
    settings: BillingSettings,
    clock: Clock = system_clock,
    watch: Progress | None = None,
    on_renewed: OnRenewed | None = None,
) -> RenewalProgress:
    """Renew ``day`` on billing's database, showing the run on ``watch`` (a Rich progress bar) if given
    and telling ``on_renewed`` each transaction's invoices once committed; the run's counts."""
    engine = create_engine(settings.database_url_for(SERVICE))
    try:
        await upgrade_to_head(engine, MIGRATIONS)
        sessions = session_factory(engine)
        progress = RenewalProgress(day)
        run = asyncio.create_task(
            renew_due_accounts(
                lambda: UnitOfWork(sessions, messaging, SERVICE, clock=clock),
                day,
                clock(),
                progress,
                on_renewed=on_renewed,
            )
        )
        if watch is not None:
            await _show(run, progress, watch)
        return await run
    finally:
        await engine.dispose()


async def _show(run: "asyncio.Task[RenewalProgress]", progress: RenewalProgress, bar: Progress) -> None:
    shown = bar.add_task("renewal", total=None, day=progress.date.isoformat())
    while True:
        bar.update(shown, total=progress.total or None, completed=progress.done + progress.failed)
        if run.done():
            return
        await asyncio.wait({run}, timeout=0.2)
