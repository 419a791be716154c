"""The store's operator commands (Typer): arguments in, one call of the service layer, a report out.

    python -m tienda.store.catalog load services/store/catalog/2026-12.json
    python -m tienda.store.catalog list
    python -m tienda.store.catalog --database-url postgresql+asyncpg://... load FILE.json

The database is the store's (``TIENDA_STORE_DATABASE_URL``, else ``.data/store.db``); it is
migrated first, so the commands also work before the worker ever started. The catalog file
format is described in ``tienda.store.catalog``.
"""

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from tienda.contracts.business_day import business_date
from tienda.messaging.clock import system_clock
from tienda.messaging.database import create_engine, session_factory
from tienda.messaging.migrations import upgrade_to_head
from tienda.messaging.unit_of_work import UnitOfWork
from tienda.store import SERVICE
from tienda.store.adapters import repository
from tienda.store.adapters.catalog_file import CatalogFileError, read_catalog_file
from tienda.store.adapters.tables import MIGRATIONS, messaging
from tienda.store.config import StoreSettings
from tienda.store.service_layer.catalog import CatalogRefused, load_catalog

T = TypeVar("T")

app = typer.Typer(help="The store's operator commands.", no_args_is_help=True, add_completion=False)
catalog = typer.Typer(help="The store's catalog versions.", no_args_is_help=True, add_completion=False)
app.add_typer(catalog, name="catalog")

DatabaseUrl = Annotated[
    str | None,
    typer.Option(help="default: TIENDA_STORE_DATABASE_URL, else the SQLite file in .data/", show_default=False),
]


@catalog.callback()
def _database(context: typer.Context, database_url: DatabaseUrl = None) -> None:
    context.obj = database_url or StoreSettings().database_url_for(SERVICE)


@catalog.command("load")
def load(context: typer.Context, file: Annotated[Path, typer.Argument(help="a catalog version, JSON")]) -> None:
    """Load a catalog version from a JSON file (again with the same content: nothing changes)."""

    async def loaded(uow: UnitOfWork) -> int:
        try:
            version = read_catalog_file(file)
            outcome = await load_catalog(uow, version, str(file), business_date(system_clock()))
        except (CatalogFileError, CatalogRefused) as error:
            print(f"{file}: not loaded:\n  " + "\n  ".join(error.problems), file=sys.stderr)
            return 1
        print(f"catalog {version.version} ({len(version.products)} products, from {version.effective_from}): {outcome}")
        return 0

    raise typer.Exit(_in_store(context.obj, loaded))


@catalog.command("list")
def list_versions(context: typer.Context) -> None:
    """The versions loaded, oldest first: version, first day, products, source file."""

    async def listed(uow: UnitOfWork) -> int:
        for version in await repository.catalog_versions_loaded(uow.session):
            fields = (version["version"], f"from {version['effective_from']}", f"{version['products']} products")
            print("\t".join(map(str, (*fields, version["source"]))))
        return 0

    raise typer.Exit(_in_store(context.obj, listed))


def _in_store(url: str, work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
    async def run() -> T:
        engine = create_engine(url)
        try:
            await upgrade_to_head(engine, MIGRATIONS)
            async with UnitOfWork(session_factory(engine), messaging, SERVICE) as uow:
                return await work(uow)
        finally:
            await engine.dispose()

    return asyncio.run(run())
