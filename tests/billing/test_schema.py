"""The migrations build exactly the tables the code uses, on both databases."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tests.harness import harness
from tienda.billing.bootstrap import definition
from tienda.billing.config import BillingSettings


def differences(connection, metadata):
    return compare_metadata(MigrationContext.configure(connection), metadata)


async def test_the_migrated_database_matches_the_tables_of_the_code(engine):
    billing = await harness(definition(BillingSettings()), engine)
    async with engine.connect() as connection:
        assert await connection.run_sync(differences, billing.definition.metadata) == []
