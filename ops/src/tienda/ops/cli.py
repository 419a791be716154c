"""`python -m tienda.ops` (or `tienda-ops`): an operator's view of Tienda.

tail TOPIC            follow a topic, pretty-printed, filtered by account or type
account ID            one account as the store, billing and the advisor see it
publish TYPE          publish a sample (or your file) of any contract type
dead-letters ...      list and replay dead letters
topics check|apply    compare the cluster's topics with the registry; create the missing ones
acls show|apply       the ACLs the registry implies; create them on the cluster

Kafka connection: KAFKA_BOOTSTRAP_SERVERS, KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_* and
KAFKA_SSL_* (see README), or ``--kafka-env FILE`` of such lines (the devkit cluster writes
one per principal in ``<data>/clients/``).
"""

import asyncio
import contextlib
import json
import os
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.json import JSON
from rich.markup import escape
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from tienda.messaging import dead_letter_cli
from tienda.messaging.settings import client_connection
from tienda.ops import topics_cli
from tienda.ops.kafka_tools import publish_sample, tail_topic

app = typer.Typer(help="An operator's view of Tienda: what flows, what failed and why.", no_args_is_help=True)
app.add_typer(dead_letter_cli.app, name="dead-letters")
app.add_typer(topics_cli.topics, name="topics")
app.add_typer(topics_cli.acls, name="acls")
console = Console()


def tail_line(key: str | None, document: dict[str, Any] | None, raw: bytes) -> str:
    """One message of `tail` as Rich markup: time, key, type, payload; the message's own text
    (which may hold brackets, as `[bold]` or `[a-z]`) is escaped, shown as sent."""
    if document is None:
        return f"[red]{escape(str(key))}[/red] (not JSON) {escape(repr(raw[:200]))}"
    payload = json.dumps(document.get("payload"), ensure_ascii=False)
    return (
        f"[dim]{escape(str(document.get('occurred_at', '')))}[/dim] [cyan]{escape(str(key))}[/cyan] "
        f"[bold]{escape(str(document.get('type', '?')))}[/bold] {escape(payload)}"
    )


Bootstrap = Annotated[
    str | None, typer.Option(help="Kafka brokers; default KAFKA_BOOTSTRAP_SERVERS, else 127.0.0.1:9092")
]


@app.callback()
def connect(
    kafka_env: Annotated[
        Path | None,
        typer.Option(
            envvar="TIENDA_OPS_KAFKA_ENV",
            help="a file of KAFKA_*=... lines (connection and credentials), e.g. .data/cluster/clients/operators.env",
        ),
    ] = None,
) -> None:
    """Read the Kafka connection from ``--kafka-env`` before any command runs."""
    if kafka_env is not None:
        for line in kafka_env.read_text().splitlines():
            name, sep, value = line.partition("=")
            if sep and name.strip().startswith("KAFKA_"):
                os.environ[name.strip()] = value.strip()


SERVICE_URLS = {
    "store": ("http://127.0.0.1:8081", ["plan"]),
    "billing": ("http://127.0.0.1:8082", ["payments", "pending-orders", "invoices", "balance", "charges"]),
    "advisor": ("http://127.0.0.1:8083", ["requests", "timeline"]),
}


@app.command()
def tail(
    topic: Annotated[str, typer.Argument(help="e.g. tienda.store.events, tienda.ops.alerts")],
    account: Annotated[str | None, typer.Option(help="only messages keyed by this account")] = None,
    message_type: Annotated[str | None, typer.Option("--type", help="only this message type")] = None,
    from_beginning: Annotated[bool, typer.Option(help="start at the oldest message")] = False,
    exit_at_end: Annotated[bool, typer.Option(help="stop when caught up instead of following")] = False,
    bootstrap_servers: Bootstrap = None,
) -> None:
    """Follow a topic; each message on one line: time, key, type, payload."""

    def show(key: str | None, document: dict[str, Any] | None, raw: bytes) -> None:
        console.print(tail_line(key, document, raw))

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(
            tail_topic(
                client_connection(bootstrap_servers), topic, show, account, message_type, from_beginning, exit_at_end
            )
        )


@app.command()
def account(
    account_id: str,
    token: Annotated[
        str, typer.Option(envvar="TIENDA_OPS_TOKEN", help="a bearer token of the read endpoints")
    ] = "dev-token",  # noqa: S107
) -> None:
    """One account across the three services, from their read endpoints."""
    for service, (default_url, views) in SERVICE_URLS.items():
        base = os.environ.get(f"TIENDA_OPS_{service.upper()}_URL", default_url)
        for view in views:
            body = _get(f"{base}/accounts/{account_id}/{view}", token)
            if body is not None:
                console.print(Panel(JSON.from_data(body), title=f"{service} · {view}"))


def _get(url: str, token: str) -> Any:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310 - operator-given URL
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        if error.code != 404:
            console.print(f"[red]{escape(url)}: {error.code} {escape(str(error.reason))}[/red]")
    except OSError as error:
        console.print(f"[red]{escape(url)}: {escape(str(error))}[/red]")
    return None


@app.command()
def renewal(
    day: Annotated[str, typer.Option("--date", help="the renewal date, YYYY-MM-DD")],
    early: Annotated[
        bool, typer.Option("--early", help="run a date after today now (issues every invoice due by then)")
    ] = False,
    token: Annotated[str, typer.Option(envvar="TIENDA_OPS_TOKEN", help="a token for every account")] = "dev-token",  # noqa: S107
) -> None:
    """Run renewal for a date on the running billing worker, and follow it with a progress bar:
    each account due that day gets its invoice, once. A date after today needs --early."""
    base = os.environ.get("TIENDA_OPS_BILLING_URL", SERVICE_URLS["billing"][0])
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    started = _billing_call(base, "POST", "/admin/renewals", headers, {"date": day, "early": early})
    with Progress(
        TextColumn(f"renewal {day}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    ) as bar:
        shown = bar.add_task("renewal", total=started["accounts_total"] or None)
        run = started
        while run["state"] == "running":
            time.sleep(0.5)
            run = _billing_call(base, "GET", f"/admin/renewals/{day}", headers, None)
            done = run["accounts_done"] + run["accounts_failed"]
            bar.update(shown, total=run["accounts_total"] or None, completed=done)
    console.print(JSON.from_data(run))


def _billing_call(base: str, method: str, path: str, headers: dict[str, str], body: object) -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310 - operator-given URL
        f"{base}{path}", data=None if body is None else json.dumps(body).encode(), method=method, headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return dict(json.loads(response.read()))
    except urllib.error.HTTPError as error:
        raise typer.BadParameter(f"billing answered {error.code}: {error.read().decode(errors='replace')}") from None
    except OSError as error:
        raise typer.BadParameter(f"billing at {base} does not answer ({error}); is the worker running?") from None


@app.command()
def publish(
    message_type: Annotated[str, typer.Argument(help="a contract type, e.g. ActivationRequested")],
    account_id: Annotated[str, typer.Option("--account", help="the account (also the Kafka key)")] = "acc-demo",
    file: Annotated[Path | None, typer.Option(help="a payload or a whole envelope, JSON")] = None,
    bootstrap_servers: Bootstrap = None,
) -> None:
    """Publish a sample event of any contract type (examples/messages/TYPE.json) or your own file."""
    try:
        topic, envelope = asyncio.run(
            publish_sample(client_connection(bootstrap_servers), message_type, account_id, file)
        )
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    console.print(escape(f"published {message_type} {envelope.event_id} for {account_id} on {topic}"))
