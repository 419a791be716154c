"""The advisor's operator commands (Typer): arguments in, one call of the service layer, a report out.

    python -m tienda.advisor.cli corrections export > corrections.jsonl
    python -m tienda.advisor.cli corrections export --since 2027-01-01 --details --output review.jsonl
    python -m tienda.advisor.cli --database-url postgresql+asyncpg://... corrections export

They read the advisor's database (``TIENDA_ADVISOR_DATABASE_URL``, or the SQLite file in
``TIENDA_ADVISOR_DATA_DIR``), migrated first, so they also work before the worker ever started.
"""

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from tienda.advisor import SERVICE
from tienda.advisor.adapters.tables import MIGRATIONS
from tienda.advisor.config import AdvisorSettings
from tienda.advisor.service_layer.views import corrections_for_corpus
from tienda.messaging.database import create_engine, session_factory
from tienda.messaging.migrations import upgrade_to_head

T = TypeVar("T")

app = typer.Typer(help="The advisor's operator commands.", no_args_is_help=True, add_completion=False)
corrections = typer.Typer(
    help="The executives' corrections of the support triage.", no_args_is_help=True, add_completion=False
)
app.add_typer(corrections, name="corrections")

DatabaseUrl = Annotated[
    str | None,
    typer.Option(help="default: TIENDA_ADVISOR_DATABASE_URL, else the SQLite file in .data/", show_default=False),
]


@app.callback()
def _database(context: typer.Context, database_url: DatabaseUrl = None) -> None:
    context.obj = database_url or AdvisorSettings().database_url_for(SERVICE)


@corrections.command("export")
def export(
    context: typer.Context,
    since: Annotated[
        str | None,
        typer.Option(help="only corrections made on or after this day (UTC), YYYY-MM-DD", show_default=False),
    ] = None,
    details: Annotated[
        bool, typer.Option(help="add where each line came from (request, automatic decision, confidence, who, when)")
    ] = False,
    output: Annotated[Path | None, typer.Option(help="write to this file instead of standard output")] = None,
) -> None:
    """Write the corrections as lines of the triage corpus (JSONL: text, label, topic), one per text."""
    start = _day(since)

    async def lines(session: AsyncSession) -> list[dict[str, Any]]:
        return await corrections_for_corpus(session, start, details)

    found = _in_advisor(context.obj, lines)
    text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in found)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
    where = f" to {output}" if output else ""
    print(
        f"{len(found)} corrected request(s){where}; add them to services/advisor/corpus/requests.jsonl as "
        "its README says (review the texts: they are customers' words)",
        file=sys.stderr,
    )


def _day(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.combine(date.fromisoformat(value), time(0), tzinfo=UTC)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a day: write it as YYYY-MM-DD", param_hint="--since") from None


def _in_advisor(url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def run() -> T:
        engine = create_engine(url)
        try:
            await upgrade_to_head(engine, MIGRATIONS)
            async with session_factory(engine)() as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())
