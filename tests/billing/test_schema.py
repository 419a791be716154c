"""The migrations build exactly the tables the code uses, on both databases."""

from datetime import UTC, datetime, timedelta

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import text

from tests.billing.conftest import Billing, payloads
from tests.harness import harness
from tienda.billing.bootstrap import definition
from tienda.billing.config import BillingSettings


def differences(connection, metadata):
    return compare_metadata(MigrationContext.configure(connection), metadata)


async def test_the_migrated_database_matches_the_tables_of_the_code(engine):
    billing = await harness(definition(BillingSettings()), engine)
    async with engine.connect() as connection:
        assert await connection.run_sync(differences, billing.definition.metadata) == []


async def upgrade_to(engine, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(definition(BillingSettings()).migrations))

    def upgrade(connection):
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(upgrade)


async def test_payments_unmatched_before_0003_count_as_raised_and_are_not_raised_again(engine):
    await upgrade_to(engine, "0002")
    recorded_at = datetime(2026, 11, 2, 15, tzinfo=UTC)
    async with engine.begin() as connection:
        for payment_id, matched in (("wp-old-unmatched", False), ("wp-old-matched", True)):
            await connection.execute(
                text(
                    "INSERT INTO payments (payment_id, account_id, reference, amount_clp, method, paid_by, paid_at,"
                    " event_id, recorded_at, matched) VALUES (:id, 'acc-antigua', 'ORD-0A1B2C3D4E5F', 15000, 'webpay',"
                    " 'Camila Rojas', :at, 'e-1', :at, :matched)"
                ),
                {"id": payment_id, "at": recorded_at.replace(tzinfo=None), "matched": matched},
            )
    billing = Billing(await harness(definition(BillingSettings()), engine))
    rows = {row["payment_id"]: row["unmatched_raised_at"] for row in await billing.rows("payments")}
    assert rows == {"wp-old-unmatched": recorded_at, "wp-old-matched": None}
    await billing.tick(datetime.now(UTC) + timedelta(days=30))
    assert payloads(await billing.fresh(), "PaymentUnmatched") == []
