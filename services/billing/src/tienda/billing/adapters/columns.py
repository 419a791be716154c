"""Column types that give back exactly what was stored, on SQLite as on PostgreSQL.

- ``UtcDateTime``: an aware moment, stored in UTC and read back aware in UTC. SQLite keeps
  no zone (it would hand back a naive time); a naive moment is refused when written.
- ``UfAmount`` (NUMERIC(16, 4)) and ``ClpPerUf`` (NUMERIC(12, 2)): decimals read back with
  their scale (``0.5000``, ``39200.00``); a value with more decimals than the column keeps is
  refused when written instead of being rounded by the database.

The DDL is that of the wrapped type, so the migrations and the schema are unchanged.
"""

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import DateTime, Dialect, Numeric
from sqlalchemy.types import TypeDecorator, TypeEngine


class UtcDateTime(TypeDecorator[datetime]):
    """A moment with its zone: written as UTC, read as an aware UTC datetime."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{value.isoformat()} has no time zone: billing stores aware moments (UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class _ExactDecimal(TypeDecorator[Decimal]):
    """A decimal with a fixed number of decimals, never rounded on the way in."""

    impl: TypeEngine[Any] | type[TypeEngine[Any]] = Numeric
    cache_ok = True
    quantum = Decimal(1)
    what = "a decimal"

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        exact = Decimal(value)
        try:
            fitted = exact.quantize(self.quantum)
        except InvalidOperation:
            fitted = None
        if fitted is None or fitted != exact:
            places = -self.quantum.as_tuple().exponent  # type: ignore[operator]
            raise ValueError(f"{value} is not {self.what} with at most {places} decimals: it would be rounded")
        return fitted

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value).quantize(self.quantum)


class UfAmount(_ExactDecimal):
    """An amount in UF, 4 decimals."""

    impl = Numeric(16, 4)
    cache_ok = True
    quantum = Decimal("0.0001")
    what = "an amount in UF"


class ClpPerUf(_ExactDecimal):
    """The value of one UF in pesos, 2 decimals."""

    impl = Numeric(12, 2)
    cache_ok = True
    quantum = Decimal("0.01")
    what = "a UF value in pesos"
