"""``GET /metrics``: the worker's Prometheus metrics, in the text exposition format."""

import logging
from collections.abc import Awaitable, Callable

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from tienda.messaging.monitoring import Monitoring

log = logging.getLogger(__name__)


def metrics_router(monitoring: Callable[[], Monitoring], backlog: Callable[[], Awaitable[int]]) -> APIRouter:
    """The metrics of ``monitoring()``, read at each scrape (the router is built before the worker runs)."""
    router = APIRouter()

    @router.get(
        "/metrics",
        response_class=Response,
        responses={200: {"description": "Prometheus text format", "content": {"text/plain": {}}}},
    )
    async def metrics() -> Response:
        """Counters, handler latency, outbox backlog and consumer lag, in Prometheus' text format."""
        try:
            monitoring().backlog = await backlog()
        except Exception as error:  # noqa: BLE001 - database away: serve the last known backlog
            log.warning("outbox backlog unknown at scrape: %s", error)
        return Response(monitoring().render(), media_type=CONTENT_TYPE_LATEST)

    return router
