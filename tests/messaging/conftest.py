"""What the messaging tests share: the messaging tables on the test's database, and a message to emit."""

import pytest
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.samples import account, activation_requested
from tienda.contracts.messages.activation import ActivationRejected, RejectedLine
from tienda.messaging.tables import MessagingTables


@pytest.fixture
async def tables(engine: AsyncEngine) -> MessagingTables:
    metadata = MetaData()
    tables = MessagingTables(metadata)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    return tables


def rejection(account_id: str | None = None) -> ActivationRejected:
    """An ActivationRejected of one line: a message a unit of work emits."""
    cause = activation_requested(account_id or account()).payload
    line = RejectedLine(line=1, sku="USR-EXTRA", code="quantity_out_of_bounds", message="too many")
    return ActivationRejected(request_id=cause.request_id, requested_by=cause.requested_by, reasons=[line])
