"""The operator's catalog command (``python -m tienda.store.catalog``): arguments in, one call, a report out."""

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from tienda.messaging.database import create_engine, session_factory
from tienda.messaging.migrations import upgrade_to_head
from tienda.messaging.unit_of_work import UnitOfWork
from tienda.store import SERVICE
from tienda.store.adapters import repository
from tienda.store.adapters.catalog_file import CatalogFileError, read_catalog_file
from tienda.store.adapters.tables import messaging
from tienda.store.config import StoreSettings
from tienda.store.service_layer.catalog import CatalogRefused, load_catalog
from tienda.store.service_layer.handlers import business_date

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(prog="python -m tienda.store.catalog", description="The store's catalog versions.")
    cli.add_argument("--database-url", help="default: TIENDA_STORE_DATABASE_URL, else the SQLite file in .data/")
    commands = cli.add_subparsers(dest="command", required=True)
    load = commands.add_parser("load", help="load a catalog version from a JSON file")
    load.add_argument("file", type=Path)
    commands.add_parser("list", help="the versions loaded, oldest first")
    return cli


async def run(arguments: argparse.Namespace) -> int:
    url = arguments.database_url or StoreSettings().database_url_for(SERVICE)
    engine = create_engine(url)
    try:
        await upgrade_to_head(engine, MIGRATIONS)
        async with UnitOfWork(session_factory(engine), messaging, SERVICE) as uow:
            if arguments.command == "list":
                return _list(await repository.catalog_versions_loaded(uow.session))
            return await _load(uow, arguments.file)
    finally:
        await engine.dispose()


async def _load(uow: UnitOfWork, path: Path) -> int:
    try:
        catalog = read_catalog_file(path)
        outcome = await load_catalog(uow, catalog, str(path), business_date(datetime.now(UTC)))
    except (CatalogFileError, CatalogRefused) as error:
        print(f"{path}: not loaded:\n  " + "\n  ".join(error.problems), file=sys.stderr)
        return 1
    print(f"catalog {catalog.version} ({len(catalog.products)} products, from {catalog.effective_from}): {outcome}")
    return 0


def _list(versions: list[dict[str, object]]) -> int:
    for version in versions:
        fields = (version["version"], f"from {version['effective_from']}", f"{version['products']} products")
        print("\t".join(map(str, (*fields, version["source"]))))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return asyncio.run(run(parser().parse_args(argv)))
