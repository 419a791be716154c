"""The store's composition root."""

from pathlib import Path

from tienda.messaging.worker import ServiceDefinition
from tienda.store import SERVICE
from tienda.store.adapters.tables import messaging, metadata
from tienda.store.entrypoints.http import routes
from tienda.store.service_layer.handlers import HANDLERS


def definition() -> ServiceDefinition:
    return ServiceDefinition(SERVICE, metadata, messaging, Path(__file__).parent / "migrations", HANDLERS, routes)
