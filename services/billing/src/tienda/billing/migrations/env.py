"""Alembic environment of the billing database (run by the worker at start)."""

from tienda.billing.adapters.tables import metadata
from tienda.messaging.migrations import run_migrations

run_migrations(metadata)
