"""The catalog as versioned data: seeded by a migration, loaded by an operator command, priced by
the version in force on the activation's effective date; a later price never alters a past activation."""

import json
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from tests.samples import account, activation_requested
from tests.samples_store import plan_contracted, reduction_requested
from tests.store.catalogs import SEED
from tests.store.conftest import fresh, of_type, reasons
from tienda.messaging.database import session_factory
from tienda.messaging.unit_of_work import UnitOfWork
from tienda.store.adapters.catalog_file import CatalogFileError, parse_catalog, read_catalog_file
from tienda.store.adapters.tables import messaging
from tienda.store.domain.catalog import CatalogVersion, catalog_problems
from tienda.store.service_layer.catalog import CatalogRefused, Loaded, load_catalog

EXAMPLE = Path(__file__).resolve().parents[2] / "services" / "store" / "catalog" / "2026-12.json"
BEFORE_DECEMBER = date(2026, 11, 25)


def at(day: date, hour: int = 15) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def example_document() -> dict:
    return json.loads(EXAMPLE.read_text())


async def load(store, catalog: CatalogVersion, today: date = BEFORE_DECEMBER) -> Loaded:
    async with UnitOfWork(session_factory(store.engine), messaging, "store") as uow:
        return await load_catalog(uow, catalog, "test", today)


async def price_of(store, account_id: str, sku: str, day: date) -> Decimal:
    await store.deliver(activation_requested(account_id, (sku, 1)).model_copy(update={"occurred_at": at(day)}))
    [charge] = of_type(await fresh(store), "ChargeScheduled")
    return Decimal(charge["payload"]["lines"][0]["unit_price_uf"])


# --------------------------------------------------------------------------- seed and prices in force


async def test_the_migration_seeds_the_catalog_the_store_opened_with(store):
    [version] = await store.rows("catalog_versions")
    assert (version["version"], version["effective_from"]) == ("2022-01", date(2022, 1, 1))
    items = {row["sku"]: row for row in await store.rows("catalog_items")}
    assert set(items) == set(SEED)
    assert {sku: Decimal(str(row["unit_price_uf"])).quantize(Decimal("0.0001")) for sku, row in items.items()} == {
        sku: product.unit_price_uf for sku, product in SEED.items()
    }
    assert items["MOD-BI"]["requires"] == ["MOD-INV"]
    assert sorted(items["MOD-BI"]["plans"]) == ["CORPORATIVO", "PYME-PLUS"]


async def test_the_price_in_force_on_the_effective_date_is_charged(store, customer):
    assert await load(store, read_catalog_file(EXAMPLE)) is Loaded.LOADED
    assert await price_of(store, customer, "USR-EXTRA", date(2026, 11, 30)) == Decimal("0.5000")
    assert await price_of(store, customer, "USR-EXTRA", date(2026, 12, 1)) == Decimal("0.5500")


async def test_the_effective_date_is_the_day_in_chile(store, customer):
    await load(store, read_catalog_file(EXAMPLE))
    for moment, day, price in (
        (datetime(2026, 12, 1, 2, 0, tzinfo=UTC), "2026-11-30", "0.5000"),  # 23:00 of 30 November in Santiago
        (datetime(2026, 12, 1, 3, 30, tzinfo=UTC), "2026-12-01", "0.5500"),  # 00:30 of 1 December in Santiago
    ):
        await store.deliver(activation_requested(customer, ("USR-EXTRA", 1)).model_copy(update={"occurred_at": moment}))
        [charge] = of_type(await fresh(store), "ChargeScheduled")
        assert (charge["payload"]["effective_date"], charge["payload"]["lines"][0]["unit_price_uf"]) == (day, price)


async def test_a_sku_of_a_later_version_is_unknown_before_it_takes_effect(store, customer):
    await load(store, read_catalog_file(EXAMPLE))
    await store.deliver(
        activation_requested(customer, ("MOD-CRM", 1)).model_copy(update={"occurred_at": at(date(2026, 11, 30))})
    )
    [rejected] = await fresh(store)
    assert reasons(rejected) == [(1, "unknown_sku")]
    assert await price_of(store, customer, "MOD-CRM", date(2026, 12, 2)) == Decimal("1.8000")


async def test_a_later_price_change_never_alters_a_past_activation(store, customer):
    await price_of(store, customer, "USR-EXTRA", date(2026, 11, 20))
    await load(store, read_catalog_file(EXAMPLE))
    await price_of(store, customer, "USR-EXTRA", date(2026, 12, 3))
    prices = sorted(Decimal(str(row["unit_price_uf"])) for row in await store.rows("activation_lines"))
    assert prices == [Decimal("0.5"), Decimal("0.55")]


async def test_a_version_loaded_while_the_store_runs_prices_the_next_cart_of_a_day_already_priced(store, customer):
    assert await price_of(store, customer, "USR-EXTRA", date(2026, 12, 3)) == Decimal("0.5000")
    await load(store, read_catalog_file(EXAMPLE))
    assert await price_of(store, customer, "USR-EXTRA", date(2026, 12, 3)) == Decimal("0.5500")


async def test_a_sku_no_longer_sold_can_still_be_reduced_at_its_last_price(store):
    account_id = account()
    await store.deliver(plan_contracted(account_id))
    await store.deliver(
        activation_requested(account_id, ("TRB-EXTRA", 40)).model_copy(update={"occurred_at": at(date(2026, 11, 26))})
    )
    without_workers = replace(
        read_catalog_file(EXAMPLE),
        products=tuple(p for p in read_catalog_file(EXAMPLE).products if p.sku != "TRB-EXTRA"),
    )
    await load(store, without_workers)
    reduction = reduction_requested(account_id, ("TRB-EXTRA", 10), occurred_at=at(date(2026, 12, 5)))
    await store.deliver(reduction)
    [scheduled] = of_type(await fresh(store), "ReductionScheduled")
    assert [(line["sku"], line["unit_price_uf"]) for line in scheduled["payload"]["lines"]] == [("TRB-EXTRA", "0.0500")]
    await store.deliver(
        activation_requested(account_id, ("TRB-EXTRA", 1)).model_copy(update={"occurred_at": at(date(2026, 12, 5))})
    )
    [rejected] = of_type(await fresh(store), "ActivationRejected")
    assert reasons(rejected) == [(1, "unknown_sku")]


# --------------------------------------------------------------------------- loading


async def test_loading_the_same_version_twice_is_harmless(store):
    assert await load(store, read_catalog_file(EXAMPLE)) is Loaded.LOADED
    assert await load(store, read_catalog_file(EXAMPLE)) is Loaded.UNCHANGED
    assert len(await store.rows("catalog_versions")) == 2


async def test_a_loaded_version_is_never_changed(store):
    await load(store, read_catalog_file(EXAMPLE))
    document = example_document()
    document["products"][0]["unit_price_uf"] = "0.6000"
    with pytest.raises(CatalogRefused, match="already loaded with other content"):
        await load(store, parse_catalog(document))


async def test_a_catalog_cannot_take_effect_in_the_past_or_on_the_day_of_another(store):
    with pytest.raises(CatalogRefused, match="before today"):
        await load(store, read_catalog_file(EXAMPLE), today=date(2026, 12, 2))
    await load(store, read_catalog_file(EXAMPLE))
    document = example_document() | {"version": "2026-12-bis"}
    with pytest.raises(CatalogRefused, match="version 2026-12 already takes effect on 2026-12-01"):
        await load(store, parse_catalog(document))


def test_a_file_with_mistakes_lists_every_one():
    document = example_document()
    document["effective_from"] = "1 de diciembre"
    document["products"][0]["unit_price_uf"] = 0.55
    document["products"][1]["max_quantity"] = "cien"
    document["products"][2]["colour"] = "rojo"
    del document["products"][3]["resource"]
    with pytest.raises(CatalogFileError) as error:
        parse_catalog(json.loads(json.dumps(document), parse_float=float))
    assert error.value.problems == [
        "effective_from: '1 de diciembre' is not a date such as 2026-12-01",
        'products[1]: unit_price_uf: 0.55 is not a decimal amount such as "0.5000"',
        "products[2]: max_quantity: 'cien' is not a whole number",
        "products[3]: unknown field 'colour'",
        "products[4]: resource: required, a non-empty string",
    ]


def test_prices_written_as_json_numbers_are_read_exactly(tmp_path):
    document = example_document()
    document["products"][0]["unit_price_uf"] = 0.5500
    path = tmp_path / "numbers.json"
    path.write_text(json.dumps(document).replace('"unit_price_uf": 0.55', '"unit_price_uf": 0.5500'))
    assert read_catalog_file(path).products[0].unit_price_uf == Decimal("0.5500")


def test_a_catalog_that_breaks_the_rules_lists_every_problem():
    catalog = parse_catalog(example_document())
    broken = replace(
        catalog,
        products=(
            *catalog.products,
            replace(catalog.products[0], description="Usuario repetido"),
            replace(catalog.products[5], sku="MOD-X", max_quantity=3),
            replace(catalog.products[5], sku="MOD-Y", requires=("MOD-NADA", "USR-EXTRA")),
            replace(catalog.products[0], sku="USR-CARO", unit_price_uf=Decimal("0.12345"), min_quantity=0),
        ),
    )
    assert catalog_problems(catalog) == []
    assert catalog_problems(broken) == [
        "USR-EXTRA: listed twice",
        "MOD-X: a module is bought once: its max quantity and units per quantity are 1",
        "USR-CARO: unit price 0.12345 UF must be zero or more, with at most 4 decimals",
        "USR-CARO: quantities must satisfy 1 <= min (0) <= max (200)",
        "MOD-Y: requires MOD-NADA, which is not in this catalog",
        "MOD-Y: requires USR-EXTRA, which is not a module",
    ]


def catalog_command(*arguments: str) -> subprocess.CompletedProcess[str]:
    """``python -m tienda.store.catalog ...`` as an operator types it."""
    command = [sys.executable, "-m", "tienda.store.catalog", *arguments]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def test_the_operator_command_loads_a_file_and_lists_the_versions(tmp_path):
    document = example_document() | {"version": "2099-01", "effective_from": "2099-01-01"}
    path = tmp_path / "2099-01.json"
    path.write_text(json.dumps(document))
    url = f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    runs = [
        catalog_command("--database-url", url, "load", str(path)),
        catalog_command("--database-url", url, "load", str(path)),
        catalog_command("--database-url", url, "list"),
    ]
    assert [run.returncode for run in runs] == [0, 0, 0], [run.stderr for run in runs]
    out = "".join(run.stdout for run in runs).splitlines()
    assert out[0] == "catalog 2099-01 (10 products, from 2099-01-01): loaded"
    assert out[1] == "catalog 2099-01 (10 products, from 2099-01-01): already loaded, identical"
    assert [line.split("\t")[:3] for line in out[2:]] == [
        ["2022-01", "from 2022-01-01", "9 products"],
        ["2099-01", "from 2099-01-01", "10 products"],
    ]


def test_the_operator_command_refuses_a_bad_file_saying_why(tmp_path):
    path = tmp_path / "roto.json"
    path.write_text('{"version": "2099-02", "products": [')
    run = catalog_command("--database-url", f"sqlite+aiosqlite:///{tmp_path / 'store.db'}", "load", str(path))
    assert run.returncode == 1
    assert "not loaded" in run.stderr
