"""`tienda-ops topics check|apply` and `tienda-ops acls show|apply`: the cluster against the registry."""

import asyncio
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tienda.contracts.topics import TOPICS
from tienda.messaging.provisioning import ProvisioningError, TopicLayout, TopicReport, check_topics, provision
from tienda.messaging.settings import ClientSettings, client_connection
from tienda.ops.acls import apply_acls, kafka_acls_commands, planned_acls

topics = typer.Typer(help="Tienda's topics on the cluster: what differs from the registry, what is missing.")
acls = typer.Typer(help="Kafka ACLs generated from the topic registry (who produces and consumes what).")
console = Console(width=160)

Bootstrap = Annotated[
    str | None, typer.Option(help="Kafka brokers; default KAFKA_BOOTSTRAP_SERVERS, else 127.0.0.1:9092")
]
Replication = Annotated[
    int | None, typer.Option(help="wanted replication factor; default KAFKA_REPLICATION_FACTOR, -1: the cluster's")
]
MinInsync = Annotated[
    int | None, typer.Option(help="wanted min.insync.replicas; default KAFKA_MIN_INSYNC_REPLICAS, unset: the cluster's")
]


def _layout(replication_factor: int | None, min_insync_replicas: int | None) -> TopicLayout:
    settings = ClientSettings()
    return TopicLayout(
        replication_factor if replication_factor is not None else settings.kafka_replication_factor,
        min_insync_replicas if min_insync_replicas is not None else settings.kafka_min_insync_replicas,
    )


def _show(report: TopicReport) -> None:
    table = Table("topic", "partitions", "replication", "min.insync", "cleanup.policy", title="Tienda's topics")
    wanted_rf = report.wanted_replication_factor
    for topic in TOPICS:
        state = report.states.get(topic.name)
        if state is None:
            table.add_row(topic.name, f"[red]missing[/red] (declared {topic.partitions})", "", "", "")
            continue
        table.add_row(
            topic.name,
            f"{state.partitions}/{topic.partitions}",
            f"{state.replication_factor}" + (f"/{wanted_rf}" if wanted_rf else ""),
            str(state.min_insync_replicas or "?"),
            state.cleanup_policy or "?",
        )
    console.print(table)
    for finding in report.findings:
        console.print(f"[yellow]differs:[/yellow] {escape(str(finding))}")


@topics.command("check")
def check(
    bootstrap_servers: Bootstrap = None,
    replication_factor: Replication = None,
    min_insync_replicas: MinInsync = None,
) -> None:
    """Every registered topic as the cluster has it; exit 1 when one is missing or differs."""
    report = asyncio.run(
        check_topics(client_connection(bootstrap_servers), layout=_layout(replication_factor, min_insync_replicas))
    )
    _show(report)
    if report.missing:
        console.print(f"[red]missing:[/red] {', '.join(report.missing)} (`topics apply` creates them)")
    if not report.ok:
        raise typer.Exit(1)
    console.print("every topic is as the registry declares")


@topics.command("apply")
def apply(
    bootstrap_servers: Bootstrap = None,
    replication_factor: Replication = None,
    min_insync_replicas: MinInsync = None,
) -> None:
    """Create the missing topics; existing ones are never changed (exit 1 when one still differs)."""
    layout = _layout(replication_factor, min_insync_replicas)
    try:
        result = asyncio.run(provision(client_connection(bootstrap_servers), layout=layout))
    except ProvisioningError as error:
        console.print(f"[red]{escape(str(error))}[/red]")
        raise typer.Exit(2) from None
    console.print(f"created {len(result.created)} topic(s){': ' + ', '.join(result.created) if result.created else ''}")
    for finding in result.report.findings:
        console.print(f"[yellow]differs (change it by hand):[/yellow] {escape(str(finding))}")
    if result.report.findings:
        raise typer.Exit(1)


@acls.command("show")
def show(
    as_commands: Annotated[
        bool, typer.Option("--as-commands", help="print kafka-acls.sh commands (Kafka's own tool) instead")
    ] = False,
    command_config: Annotated[str, typer.Option(help="--command-config for those commands")] = "admin.properties",
) -> None:
    """The ACLs the topic registry implies, one rule a line; nothing is sent to Kafka."""
    rules = planned_acls()
    if as_commands:
        for command in kafka_acls_commands(rules, client_connection().bootstrap_servers, command_config):
            print(command)
        return
    table = Table("principal", "operation", "resource", "name", "why", title=f"{len(rules)} ACLs (ALLOW)")
    for rule in rules:
        name = rule.name + ("*" if rule.pattern == "prefixed" else "")
        table.add_row(f"User:{rule.principal}", rule.operation, rule.resource, name, rule.why)
    console.print(table)


@acls.command("apply")
def apply_rules(
    bootstrap_servers: Bootstrap = None,
    prune: Annotated[
        bool, typer.Option(help="also delete rules of Tienda's principals the registry no longer implies")
    ] = False,
) -> None:
    """Create the rules the cluster lacks (as a principal allowed to alter ACLs, e.g. a super user)."""
    changes = apply_acls(client_connection(bootstrap_servers), prune=prune)
    console.print(f"created {len(changes.created)} ACL(s), {len(changes.already_there)} already there")
    for rule in changes.removed:
        console.print(escape(f"removed: {rule}"))
    if changes.extra and not prune:
        for rule in changes.extra:
            console.print(f"[yellow]not implied by the registry:[/yellow] {escape(str(rule))}")
        console.print("(`acls apply --prune` deletes those)")
