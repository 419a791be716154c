"""`python -m tienda.messaging.dead_letter_cli`: list and replay a service's dead letters."""

import asyncio
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from tienda.messaging.replay import DeadLetter, count_by_reason, read_dead_letters, replay, select
from tienda.messaging.settings import client_connection

app = typer.Typer(help="Dead letters: what failed, why, and sending it back.", no_args_is_help=True)
console = Console(width=None if sys.stdout.isatty() else 200)

Service = Annotated[str, typer.Option(help="store, billing or advisor")]
Bootstrap = Annotated[
    str | None,
    typer.Option(help="Kafka brokers; default KAFKA_BOOTSTRAP_SERVERS (security: the KAFKA_* variables, see README)"),
]


def _age(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@app.command("list")
def list_letters(
    service: Service,
    bootstrap_servers: Bootstrap = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object a line, for scripts")] = False,
) -> None:
    """Every dead letter of a service, and their count by reason."""
    letters = asyncio.run(read_dead_letters(client_connection(bootstrap_servers), service))
    if as_json:
        for letter in letters:
            print(
                json.dumps(
                    {
                        "offset": letter.offset,
                        "key": letter.key,
                        "original_topic": letter.original_topic,
                        "reason": letter.reason,
                        "dead_lettered_at": letter.dead_lettered_at.isoformat(),
                    }
                )
            )
        return
    for table in tables(letters, service, datetime.now(UTC)):
        console.print(table)


def tables(letters: list[DeadLetter], service: str, now: datetime) -> tuple[Table, Table]:
    """The letters one a row, and their count by reason. What the letters carry (reasons quote
    producers' values and patterns such as `[A-Z0-9]`) is shown verbatim, never read as markup."""
    table = Table("offset", "age", "original topic", "key", "attempts", "reason", title=f"dead letters of {service}")
    for letter in letters:
        table.add_row(
            str(letter.offset),
            _age(letter.age(now)),
            escape(letter.original_topic),
            escape(letter.key or ""),
            escape(letter.header("attempts")),
            escape(letter.reason[:160]),
        )
    summary = Table("original topic", "error", "count", "oldest", "example", title="by reason")
    for group in count_by_reason(letters):
        summary.add_row(
            escape(group.original_topic),
            escape(group.error_class),
            str(group.count),
            _age(now - group.oldest),
            escape(group.example[:80]),
        )
    return table, summary


@app.command("replay")
def replay_letters(
    service: Service,
    bootstrap_servers: Bootstrap = None,
    offset: Annotated[list[int] | None, typer.Option(help="replay only these offsets (repeatable)")] = None,
    reason: Annotated[str | None, typer.Option(help="replay only letters whose reason contains this")] = None,
    replace: Annotated[list[str] | None, typer.Option(help="OFFSET=FILE: send FILE's bytes instead")] = None,
    all_letters: Annotated[bool, typer.Option("--all", help="replay every dead letter")] = False,
) -> None:
    """Send dead letters back to their original topic; the inbox keeps a replay from doubling an effect."""
    if not (offset or reason or all_letters):
        raise typer.BadParameter("say what to replay: --offset N, --reason TEXT or --all")
    kafka = client_connection(bootstrap_servers)
    letters = select(asyncio.run(read_dead_letters(kafka, service)), offset or (), reason)
    corrections = _corrections(replace or [])
    with Progress(console=console) as progress:
        task = progress.add_task(f"replaying {len(letters)} dead letter(s)", total=len(letters))

        def advance(_: DeadLetter) -> None:
            progress.advance(task)

        sent = asyncio.run(replay(kafka, letters, corrections, advance))
    console.print(f"replayed {sent} message(s) to their original topics")


def _corrections(pairs: list[str]) -> dict[int, bytes]:
    corrections = {}
    for pair in pairs:
        offset, _, path = pair.partition("=")
        if not offset.isdigit() or not path:
            raise typer.BadParameter(f"--replace {pair!r}: expected OFFSET=FILE, e.g. 12=fixed.json")
        corrections[int(offset)] = Path(path).read_bytes().strip()
    return corrections


if __name__ == "__main__":
    app()
