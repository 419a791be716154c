"""The test's own read-only look into a worker's database."""

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine


class Database:
    """The test's own look into a worker's database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def count(self, table: object, where: object = None) -> int:
        query = select(func.count()).select_from(table)  # type: ignore[arg-type]
        if where is not None:
            query = query.where(where)  # type: ignore[arg-type]
        async with self.engine.connect() as connection:
            return int(await connection.scalar(query) or 0)

    async def rows(self, query: object) -> list[dict]:
        async with self.engine.connect() as connection:
            return [dict(row) for row in (await connection.execute(query)).mappings()]  # type: ignore[call-overload]
