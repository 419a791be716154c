"""Streams of carts and what they must add up to."""

import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from tests.samples import activation_requested
from tienda.contracts.envelope import Envelope
from tienda.messaging.codec import encode
from tienda.store.adapters.tables import activations, entitlements, messaging

USERS = "users"


@dataclass
class CartStream:
    """``size`` carts of extra users over ``accounts`` accounts, each cart distinct."""

    size: int
    accounts: int = 50
    seed: int = 7
    envelopes: list[Envelope[Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        rng = random.Random(self.seed)
        run = uuid.uuid4().hex[:6]
        self.account_ids = [f"acc-{run}-{n:03d}" for n in range(self.accounts)]
        self.envelopes = [
            activation_requested(rng.choice(self.account_ids), ("USR-EXTRA", rng.randint(1, 3)))
            for _ in range(self.size)
        ]

    def messages(self) -> list[tuple[str, bytes]]:
        return [(envelope.account_id, encode(envelope)) for envelope in self.envelopes]

    def expected_users(self) -> dict[str, int]:
        totals: Counter[str] = Counter()
        for envelope in self.envelopes:
            totals[envelope.account_id] += envelope.payload.lines[0].quantity
        return dict(totals)

    def mine(self, column: Any) -> Any:
        return column.in_(self.account_ids)


async def processed(store_db: Any, stream: CartStream) -> int:
    """Activations of this stream the store has committed."""
    return int(await store_db.count(activations, stream.mine(activations.c.account_id)))


async def users_by_account(store_db: Any, stream: CartStream) -> dict[str, int]:
    rows = await store_db.rows(
        select(entitlements.c.account_id, entitlements.c.quantity).where(
            stream.mine(entitlements.c.account_id), entitlements.c.resource == USERS
        )
    )
    return {row["account_id"]: row["quantity"] for row in rows}


async def outbox_backlog(store_db: Any) -> int:
    return int(await store_db.count(messaging.outbox, messaging.outbox.c.published_at.is_(None)))
