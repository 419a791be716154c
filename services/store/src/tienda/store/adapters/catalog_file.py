"""Reading a catalog version from its JSON file (the format is described in ``tienda.store.catalog``)."""

import json
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from tienda.store.domain.catalog import CatalogVersion, Product

REQUIRED = ("sku", "description", "resource", "unit_price_uf")
OPTIONAL_INTEGERS = {"min_quantity": 1, "max_quantity": 1, "units_per_quantity": 1}
KNOWN = {*REQUIRED, *OPTIONAL_INTEGERS, "requires", "plans"}


class CatalogFileError(ValueError):
    """The file is not a catalog: every problem found, one per line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def read_catalog_file(path: Path) -> CatalogVersion:
    try:
        document = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CatalogFileError([f"{path}: {error}"]) from error
    return parse_catalog(document)


def parse_catalog(document: Any) -> CatalogVersion:
    """A catalog version from the decoded JSON document; CatalogFileError lists every problem."""
    if not isinstance(document, dict):
        raise CatalogFileError(["the file must hold one JSON object"])
    problems: list[str] = []
    version = _text(document, "version", problems)
    effective_from = _date(document.get("effective_from"), problems)
    products_in = document.get("products")
    if not isinstance(products_in, list):
        problems.append("products: must be a list of products")
        products_in = []
    products = [_product(n, item, problems) for n, item in enumerate(products_in, start=1)]
    if problems:
        raise CatalogFileError(problems)
    return CatalogVersion(
        version,
        effective_from or date.min,
        str(document.get("description", "")),
        tuple(product for product in products if product is not None),
    )


def _text(document: dict[str, Any], name: str, problems: list[str], where: str = "") -> str:
    value = document.get(name)
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where}{name}: required, a non-empty string")
        return ""
    return value


def _date(value: Any, problems: list[str]) -> date | None:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        problems.append(f"effective_from: {value!r} is not a date such as 2026-12-01")
        return None


def _product(number: int, item: Any, problems: list[str]) -> Product | None:
    where = f"products[{number}]: "
    if not isinstance(item, dict):
        problems.append(f"{where}must be an object")
        return None
    before = len(problems)
    problems += [f"{where}unknown field {name!r}" for name in sorted(set(item) - KNOWN)]
    sku, description, resource = (_text(item, name, problems, where) for name in ("sku", "description", "resource"))
    price = _price(item.get("unit_price_uf"), problems, where)
    integers = {
        name: _integer(item.get(name, default), name, problems, where) for name, default in OPTIONAL_INTEGERS.items()
    }
    requires, plans = (_strings(item.get(name, []), name, problems, where) for name in ("requires", "plans"))
    if len(problems) > before:
        return None
    return Product(sku, description, resource, price, requires=tuple(requires), plans=frozenset(plans), **integers)


def _price(value: Any, problems: list[str], where: str) -> Decimal:
    try:
        if isinstance(value, bool) or not isinstance(value, str | Decimal | int):
            raise InvalidOperation
        return Decimal(value)
    except InvalidOperation:
        problems.append(f'{where}unit_price_uf: {value!r} is not a decimal amount such as "0.5000"')
        return Decimal(0)


def _integer(value: Any, name: str, problems: list[str], where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append(f"{where}{name}: {value!r} is not a whole number")
        return 0
    return value


def _strings(value: Any, name: str, problems: list[str], where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(entry, str) for entry in value):
        problems.append(f"{where}{name}: must be a list of strings")
        return []
    return value
