"""The card an account subscribed for autopay: the gateway's token reference, brand and last four digits only."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import RowMapping, bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tienda.billing.adapters.rows import Person, first_row, person_columns, person_of
from tienda.billing.adapters.tables import cards


@dataclass(frozen=True)
class Card:
    token_reference: str
    brand: str
    last_four: str
    subscribed_by: Person
    subscribed_at: datetime


def _card_of(row: RowMapping) -> Card:
    return Card(
        row["token_reference"], row["brand"], row["last_four"], person_of(row, "subscribed_by"), row["subscribed_at"]
    )


async def card(session: AsyncSession, account_id: str) -> Card | None:
    row = await first_row(session, select(cards).where(cards.c.account_id == account_id))
    return None if row is None else _card_of(row)


_CARDS_OF = select(cards).where(cards.c.account_id.in_(bindparam("account_ids", expanding=True)))


async def cards_of(session: AsyncSession, account_ids: Sequence[str]) -> dict[str, Card]:
    """The cards of those of these accounts that have one, in one query."""
    if not account_ids:
        return {}
    rows = await session.execute(_CARDS_OF, {"account_ids": list(account_ids)})
    return {row["account_id"]: _card_of(row) for row in rows.mappings()}


async def save_card(session: AsyncSession, account_id: str, new: Card) -> None:
    """The account's card from now on (a new card replaces the old one)."""
    values = {
        "token_reference": new.token_reference,
        "brand": new.brand,
        "last_four": new.last_four,
        **person_columns("subscribed_by", new.subscribed_by),
        "subscribed_at": new.subscribed_at,
    }
    if await card(session, account_id) is None:
        await session.execute(insert(cards).values(account_id=account_id, **values))
    else:
        await session.execute(update(cards).where(cards.c.account_id == account_id).values(**values))


async def remove_card(session: AsyncSession, account_id: str) -> None:
    await session.execute(delete(cards).where(cards.c.account_id == account_id))
