"""The store's composition root: settings and clock in, the worker's definition out."""

from tienda.messaging.clock import Clock, system_clock
from tienda.messaging.worker import ServiceDefinition
from tienda.store import SERVICE
from tienda.store.adapters.tables import MIGRATIONS, messaging, metadata
from tienda.store.config import StoreSettings
from tienda.store.entrypoints import http
from tienda.store.entrypoints.consumer import consumer


def definition(settings: StoreSettings, clock: Clock = system_clock) -> ServiceDefinition:
    return ServiceDefinition(
        SERVICE, metadata, messaging, MIGRATIONS, consumer(), http.routes(clock), background=(), clock=clock
    )
