"""``GET /metrics``: the worker's Prometheus metrics, in the text exposition format."""

import logging
from collections.abc import Awaitable, Callable

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tienda.messaging.monitoring import Monitoring

log = logging.getLogger(__name__)


def metrics_route(monitoring: Monitoring, backlog: Callable[[], Awaitable[int]]) -> Route:
    async def metrics(_: Request) -> Response:
        """Counters, handler latency, outbox backlog and consumer lag, in Prometheus' text format."""
        try:
            monitoring.backlog = await backlog()
        except Exception as error:  # noqa: BLE001 - database away: serve the last known backlog
            log.warning("outbox backlog unknown at scrape: %s", error)
        return Response(monitoring.render(), media_type=CONTENT_TYPE_LATEST)

    return Route("/metrics", metrics)
