"""Alembic environment of the advisor database (run by the worker at start)."""

from tienda.advisor.adapters.tables import metadata
from tienda.messaging.migrations import run_migrations

run_migrations(metadata)
