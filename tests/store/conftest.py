"""The store's real handlers on a real database (SQLite and PostgreSQL), a fake broker."""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.harness import Harness, harness
from tests.samples import account
from tests.samples_store import plan_contracted
from tienda.store.bootstrap import definition
from tienda.store.config import StoreSettings

CONTRACTED_IN_2026 = datetime(2026, 1, 2, 12, tzinfo=UTC)


@pytest.fixture
async def store(engine) -> Harness:
    return await harness(definition(StoreSettings()), engine)


@pytest.fixture
async def customer(store) -> str:
    """An account on the Pyme plan that includes nothing: entitlements are what the store sold. Its
    plan was contracted at the start of 2026, so a cart may be dated on any later day."""
    account_id = account()
    await store.deliver(plan_contracted(account_id, occurred_at=CONTRACTED_IN_2026))
    await fresh(store)
    return account_id


def of_type(messages: Sequence[dict[str, Any]], message_type: str) -> list[dict[str, Any]]:
    return [message for message in messages if message["type"] == message_type]


def reasons(rejected: dict[str, Any]) -> list[tuple[int | None, str]]:
    return [(reason["line"], reason["code"]) for reason in rejected["payload"]["reasons"]]


async def entitlements(store: Harness, account_id: str) -> dict[str, int]:
    return {
        row["resource"]: row["quantity"] for row in await store.rows("entitlements") if row["account_id"] == account_id
    }


async def fresh(store: Harness) -> list[dict[str, Any]]:
    """The messages published since the last call (the harness returns all of them)."""
    seen = getattr(store, "seen", 0)
    messages = await store.relay()
    store.seen = len(messages)  # type: ignore[attr-defined]
    return messages[seen:]
