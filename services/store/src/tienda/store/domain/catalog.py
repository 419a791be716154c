"""What the store sells: resources added to a plan, priced per unit per month in UF.

The catalog is versioned data: each version is a complete list of products with the
day it takes effect. On any day the version in force is the one with the latest
``effective_from`` on or before that day; a SKU missing from it is not sold that day.
Versions are never edited once loaded, and every activation keeps the prices it was
sold at, so a later version never alters a past activation.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

MODULE_PREFIX = "module:"
SKU_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,39}$")
RESOURCE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(:[a-z][a-z0-9_-]*)?$")
UF_PLACES = Decimal("0.0001")


def is_module(resource: str) -> bool:
    return resource.startswith(MODULE_PREFIX)


@dataclass(frozen=True)
class Product:
    """A SKU of the catalog: ``quantity`` of it grants ``quantity × units_per_quantity`` of ``resource``."""

    sku: str
    description: str
    resource: str
    unit_price_uf: Decimal
    min_quantity: int = 1
    max_quantity: int = 1
    units_per_quantity: int = 1
    requires: tuple[str, ...] = ()
    plans: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_module(self) -> bool:
        return is_module(self.resource)

    def sold_to(self, plan_code: str) -> bool:
        """Whether an account on ``plan_code`` may buy it (no plans listed: every plan)."""
        return not self.plans or plan_code in self.plans


Catalog = Mapping[str, Product]


@dataclass(frozen=True)
class CatalogVersion:
    """One complete catalog and the day it takes effect."""

    version: str
    effective_from: date
    description: str
    products: tuple[Product, ...]

    def by_sku(self) -> dict[str, Product]:
        return {product.sku: product for product in self.products}


def catalog_problems(catalog: CatalogVersion) -> list[str]:
    """Everything wrong with a catalog version, in sentences; empty when it may be loaded."""
    problems = [] if catalog.products else ["the catalog has no products"]
    if not catalog.version.strip() or len(catalog.version) > 40:
        problems.append("the version must have 1 to 40 characters")
    seen: set[str] = set()
    for product in catalog.products:
        if product.sku in seen:
            problems.append(f"{product.sku}: listed twice")
        seen.add(product.sku)
        problems += [f"{product.sku}: {problem}" for problem in _product_problems(product)]
    problems += _dependency_problems(catalog.by_sku())
    return problems


def _product_problems(product: Product) -> Iterable[str]:
    if not SKU_PATTERN.match(product.sku):
        yield "the SKU must be 2 to 40 capitals, digits, - or _"
    if not product.description.strip() or len(product.description) > 200:
        yield "the description must have 1 to 200 characters"
    if not RESOURCE_PATTERN.match(product.resource) or len(product.resource) > 60:
        yield f"resource {product.resource!r} is not a resource name such as users or module:inventory"
    if product.unit_price_uf < 0 or product.unit_price_uf != product.unit_price_uf.quantize(UF_PLACES):
        yield f"unit price {product.unit_price_uf} UF must be zero or more, with at most 4 decimals"
    if not 1 <= product.min_quantity <= product.max_quantity:
        yield f"quantities must satisfy 1 <= min ({product.min_quantity}) <= max ({product.max_quantity})"
    if product.units_per_quantity < 1:
        yield "units per quantity must be 1 or more"
    if product.is_module and (product.max_quantity, product.units_per_quantity) != (1, 1):
        yield "a module is bought once: its max quantity and units per quantity are 1"


def _dependency_problems(products: Mapping[str, Product]) -> list[str]:
    problems = []
    for product in products.values():
        for needed in product.requires:
            if needed == product.sku:
                problems.append(f"{product.sku}: cannot require itself")
            elif needed not in products:
                problems.append(f"{product.sku}: requires {needed}, which is not in this catalog")
            elif not products[needed].is_module:
                problems.append(f"{product.sku}: requires {needed}, which is not a module")
    return problems
