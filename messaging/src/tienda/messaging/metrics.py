"""The core's counters in Prometheus' text format, for ``GET /metrics``."""

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from tienda.messaging.counters import Counters

COUNTER_HELP = {
    "consumed": "Records read from Kafka.",
    "processed": "Messages whose effect was committed.",
    "deduplicated": "Messages already processed before (inbox hit).",
    "ignored": "Valid messages of a type this service does not handle.",
    "retried": "Attempts repeated after a transient failure.",
    "dead_lettered": "Messages sent to the dead-letter topic.",
    "published": "Outbox messages published.",
    "publish_failures": "Outbox relay rounds that failed and backed off.",
}


def render(service: str, counters: Counters, backlog: int) -> str:
    lines = []
    for name, value in counters.snapshot().items():
        metric = f"tienda_messages_{name}_total"
        lines += [
            f"# HELP {metric} {COUNTER_HELP[name]}",
            f"# TYPE {metric} counter",
            f'{metric}{{service="{service}"}} {value}',
        ]
    lines += [
        "# HELP tienda_outbox_backlog Outbox messages committed but not yet published.",
        "# TYPE tienda_outbox_backlog gauge",
        f'tienda_outbox_backlog{{service="{service}"}} {backlog}',
    ]
    return "\n".join(lines) + "\n"


def metrics_route(service: str, counters: Counters, backlog: Callable[[], Awaitable[int]]) -> Route:
    async def metrics(_: Request) -> Response:
        return PlainTextResponse(render(service, counters, await backlog()), media_type="text/plain; version=0.0.4")

    return Route("/metrics", metrics)
