"""Billing.s composition root."""

from pathlib import Path

from tienda.billing import SERVICE
from tienda.billing.adapters.tables import messaging, metadata
from tienda.billing.entrypoints.http import routes
from tienda.billing.service_layer.handlers import HANDLERS
from tienda.messaging.worker import ServiceDefinition


def definition() -> ServiceDefinition:
    return ServiceDefinition(SERVICE, metadata, messaging, Path(__file__).parent / "migrations", HANDLERS, routes)
