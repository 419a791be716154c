"""The advisor's composition root."""

from pathlib import Path

from tienda.advisor import SERVICE
from tienda.advisor.adapters.tables import messaging, metadata
from tienda.advisor.entrypoints.http import routes
from tienda.advisor.service_layer.handlers import HANDLERS
from tienda.messaging.worker import ServiceDefinition


def definition() -> ServiceDefinition:
    return ServiceDefinition(SERVICE, metadata, messaging, Path(__file__).parent / "migrations", HANDLERS, routes)
