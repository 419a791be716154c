"""Alembic, run from code: each service upgrades its own database at start."""

from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import Connection, MetaData, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from tienda.messaging.relay_lease import advisory_key


async def upgrade_to_head(engine: AsyncEngine, script_location: Path) -> None:
    """Apply every migration of ``script_location`` that the database lacks.

    On PostgreSQL, replicas starting together take turns (an advisory lock held until the
    migration's transaction ends): the first migrates, the others then find nothing to do."""
    config = Config()
    config.set_main_option("script_location", str(script_location))
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(select(func.pg_advisory_xact_lock(advisory_key("tienda.migrations"))))
        await connection.run_sync(_upgrade, config)


def _upgrade(connection: Connection, config: Config) -> None:
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def run_migrations(target_metadata: MetaData) -> None:
    """The body of a service's ``migrations/env.py``: migrate on the connection handed in."""
    connection = context.config.attributes["connection"]
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
