"""What every aggregate's adapter shares: people stored as three columns, the first row of a query."""

from collections.abc import Mapping
from typing import Any

from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

Person = Mapping[str, str]
"""Who did something: user_id, name, email (as the contracts' Person, dumped)."""


def person_columns(prefix: str, who: Person) -> dict[str, str]:
    return {f"{prefix}_user_id": who["user_id"], f"{prefix}_name": who["name"], f"{prefix}_email": who["email"]}


def person_of(row: RowMapping, prefix: str) -> dict[str, str]:
    """The person of the ``prefix`` columns; rows older than those columns name an unknown person."""
    return {
        "user_id": row[f"{prefix}_user_id"] or "unknown",
        "name": row[f"{prefix}_name"] or "unknown",
        "email": row[f"{prefix}_email"] or "unknown@invalid.cl",
    }


async def first_row(session: AsyncSession, query: Any, params: Mapping[str, Any] | None = None) -> RowMapping | None:
    """The first row of ``query`` by column name, or None."""
    return (await session.execute(query, params)).mappings().first()
