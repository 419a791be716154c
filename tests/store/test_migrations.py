"""Migration 0002 on a store that already sold things: what was bought stays, as store purchases."""

from datetime import UTC, date, datetime
from decimal import Decimal

from alembic import command
from alembic.config import Config
from sqlalchemy import insert, text

from tests.harness import harness
from tests.samples import activation_requested
from tests.samples_store import plan_contracted, reduction_requested
from tests.store.conftest import fresh, of_type, reasons
from tienda.store.adapters.tables import activation_lines, activations
from tienda.store.bootstrap import definition
from tienda.store.config import StoreSettings


async def upgrade_to(engine, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(definition(StoreSettings()).migrations))

    def upgrade(connection):
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(upgrade)


async def test_entitlements_bought_before_the_migration_become_store_purchases(engine):
    await upgrade_to(engine, "0001")
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO entitlements VALUES ('acc-antigua', 'users', 4)"))
        await connection.execute(
            insert(activations).values(
                activation_id="6f1c3f8e-0000-4000-8000-000000000001",
                account_id="acc-antigua",
                request_id="cart-2025",
                payment_mode="at_renewal",
                effective_date=date(2025, 6, 1),
                requested_by_user_id="u-camila",
                requested_by_name="Camila Rojas",
                requested_by_email="camila.rojas@ferreteria-rojas.cl",
                event_id="6f1c3f8e-0000-4000-8000-000000000002",
                activated_at=datetime(2025, 6, 1, 12, tzinfo=UTC),
            )
        )
        await connection.execute(
            insert(activation_lines).values(
                activation_id="6f1c3f8e-0000-4000-8000-000000000001",
                line=1,
                sku="USR-EXTRA",
                description="Usuario adicional",
                quantity=4,
                unit_price_uf=Decimal("0.5000"),
            )
        )
    store = await harness(definition(StoreSettings()), engine)
    [row] = await store.rows("entitlements")
    assert (row["quantity"], row["included"], row["purchased"]) == (4, 0, 4)
    assert [version["version"] for version in await store.rows("catalog_versions")] == ["2022-01"]

    await store.deliver(plan_contracted("acc-antigua", included={"users": 3}))
    await store.deliver(reduction_requested("acc-antigua", ("USR-EXTRA", 5)))
    await store.deliver(reduction_requested("acc-antigua", ("USR-EXTRA", 4)))
    messages = await fresh(store)
    [rejected] = of_type(messages, "ReductionRejected")
    assert reasons(rejected) == [(1, "exceeds_store_purchases")]
    assert len(of_type(messages, "ReductionScheduled")) == 1
    assert [r["quantity"] for r in await store.rows("entitlements")] == [7]


async def test_an_account_of_before_revision_0003_keeps_its_carts_dated_on_their_own_day(engine):
    """Its first plan's moment is unknown: a renewal after the upgrade is no floor for a cart's date."""
    await upgrade_to(engine, "0002")
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO account_plans (account_id, plan_code, plan_name, billing_cycle, renewal_anchor, "
                "plan_price_uf, status, revision, updated_at) VALUES ('acc-de-antes', 'PYME', 'Pyme', 'monthly', "
                "'2026-03-15', 2.9, 'active', 1, '2026-01-01 00:00:00')"
            )
        )
    store = await harness(definition(StoreSettings()), engine)
    await store.deliver(plan_contracted("acc-de-antes", occurred_at=datetime(2026, 12, 1, 15, tzinfo=UTC)))
    cart = activation_requested("acc-de-antes", ("USR-EXTRA", 1))
    await store.deliver(cart.model_copy(update={"occurred_at": datetime(2026, 11, 20, 15, tzinfo=UTC)}))
    [charge] = of_type(await fresh(store), "ChargeScheduled")
    assert charge["payload"]["effective_date"] == "2026-11-20"
