"""Alembic environment of the store database (run by the worker at start)."""

from tienda.messaging.migrations import run_migrations
from tienda.store.adapters.tables import metadata

run_migrations(metadata)
