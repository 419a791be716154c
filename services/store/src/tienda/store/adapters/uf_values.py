"""The UF values the store has read from the indicator feed, one per day (the first one wins)."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from tienda.store.adapters.tables import uf_values


async def uf_value(session: AsyncSession, day: date) -> Decimal | None:
    """Pesos per UF on ``day``, or None when the feed has not published it (or the store not read it)."""
    value = await session.scalar(select(uf_values.c.clp_per_uf).where(uf_values.c.uf_date == day))
    return Decimal(value) if value is not None else None


async def add_uf_value(session: AsyncSession, day: date, clp_per_uf: Decimal, event_id: str, now: datetime) -> None:
    await session.execute(
        insert(uf_values).values(uf_date=day, clp_per_uf=str(clp_per_uf), event_id=event_id, recorded_at=now)
    )
