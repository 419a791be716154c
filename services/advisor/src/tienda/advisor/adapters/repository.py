"""The advisor's read side."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tienda.advisor.adapters.tables import timeline


async def timeline_of(session: AsyncSession, account_id: str) -> list[dict[str, Any]]:
    rows = (
        await session.execute(
            select(timeline).where(timeline.c.account_id == account_id).order_by(timeline.c.occurred_at.desc())
        )
    ).mappings()
    return [{"kind": r["kind"], "summary": r["summary"], "occurred_at": r["occurred_at"].isoformat()} for r in rows]
