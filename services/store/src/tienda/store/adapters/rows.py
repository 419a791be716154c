"""Values read back from the store's database, as the domain holds them."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from tienda.store.domain.catalog import UF_PLACES


def uf(value: Any) -> Decimal:
    """A UF amount read back from the database, exact to 4 decimals (SQLite stores floats)."""
    return Decimal(str(value)).quantize(UF_PLACES)


def aware(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes of what was written in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def aware_or_none(moment: datetime | None) -> datetime | None:
    return None if moment is None else aware(moment)
