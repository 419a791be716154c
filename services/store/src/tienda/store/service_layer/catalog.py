"""Loading a catalog version: checked whole, never edited once loaded, never in the past."""

from datetime import date
from enum import StrEnum

from tienda.messaging.unit_of_work import UnitOfWork
from tienda.store.adapters import repository
from tienda.store.domain.catalog import CatalogVersion, catalog_problems


class CatalogRefused(ValueError):
    """The version cannot be loaded: every reason, one per line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class Loaded(StrEnum):
    LOADED = "loaded"
    UNCHANGED = "already loaded, identical"


async def load_catalog(uow: UnitOfWork, catalog: CatalogVersion, source: str, today: date) -> Loaded:
    """Add a catalog version that takes effect ``today`` or later. Loading the same file twice is harmless."""
    problems = catalog_problems(catalog)
    if problems:
        raise CatalogRefused(problems)
    existing = await repository.catalog_version(uow.session, catalog.version)
    if existing is not None:
        if _same(existing, catalog):
            return Loaded.UNCHANGED
        raise CatalogRefused(
            [f"version {catalog.version} is already loaded with other content; versions never change: name a new one"]
        )
    if catalog.effective_from < today:
        raise CatalogRefused(
            [f"effective_from {catalog.effective_from} is before today ({today}): a catalog cannot change the past"]
        )
    clash = await repository.version_effective_from(uow.session, catalog.effective_from)
    if clash:
        raise CatalogRefused([f"version {clash} already takes effect on {catalog.effective_from}"])
    await repository.add_catalog_version(uow.session, catalog, source, uow.now)
    await uow.commit()
    return Loaded.LOADED


def _same(loaded: CatalogVersion, candidate: CatalogVersion) -> bool:
    def key(catalog: CatalogVersion) -> tuple[object, ...]:
        return (catalog.effective_from, catalog.description, sorted(catalog.products, key=lambda p: p.sku))

    return key(loaded) == key(candidate)
