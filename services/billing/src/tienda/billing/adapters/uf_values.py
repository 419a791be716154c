"""The UF values billing has recorded, one per day (the first one published wins)."""

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from tienda.billing.adapters.tables import uf_values
from tienda.billing.domain.documents import Conversion


async def uf_value(session: AsyncSession, day: date) -> Conversion | None:
    value = await session.scalar(select(uf_values.c.clp_per_uf).where(uf_values.c.uf_date == day))
    return Conversion(day, value) if value is not None else None


_VALUES_OF = select(uf_values.c.uf_date, uf_values.c.clp_per_uf).where(
    uf_values.c.uf_date.in_(bindparam("days", expanding=True))
)


async def uf_values_of(session: AsyncSession, days: Iterable[date]) -> dict[date, Conversion]:
    """The UF values recorded for those of these days that have one, in one query."""
    wanted = set(days)
    if not wanted:
        return {}
    rows = await session.execute(_VALUES_OF, {"days": list(wanted)})
    return {row.uf_date: Conversion(row.uf_date, row.clp_per_uf) for row in rows}


async def add_uf_value(session: AsyncSession, conversion: Conversion, event_id: str, now: datetime) -> None:
    await session.execute(
        insert(uf_values).values(
            uf_date=conversion.uf_date, clp_per_uf=conversion.clp_per_uf, event_id=event_id, recorded_at=now
        )
    )


async def latest_uf_value(session: AsyncSession, by: date) -> Conversion | None:
    """The latest UF value recorded for a day up to ``by`` (an estimate for a later day's value)."""
    row = (
        await session.execute(
            select(uf_values.c.uf_date, uf_values.c.clp_per_uf)
            .where(uf_values.c.uf_date <= by)
            .order_by(uf_values.c.uf_date.desc())
            .limit(1)
        )
    ).first()
    return Conversion(row.uf_date, row.clp_per_uf) if row is not None else None
