"""A run of ChargeScheduled handled together (one read of activations and accounts, one write of
charges) ends exactly as the same messages handled one by one."""

import logging
import uuid
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.billing.conftest import DTE_100, USERS, charge_scheduled, plan_contracted
from tests.conftest import sqlite_url
from tests.harness import Harness, harness
from tests.samples import account
from tienda.billing.bootstrap import definition
from tienda.billing.config import BillingSettings
from tienda.contracts.envelope import Envelope
from tienda.contracts.types import PaymentMode
from tienda.messaging.database import create_engine
from tienda.messaging.processor import Outcome

CHARGE_COLUMNS = ("activation_id", "line", "account_id", "sku", "quantity", "status", "period_start", "order_id")


@pytest.fixture
async def second_engine(
    database_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[AsyncEngine]:
    """Another empty database of the same backend, for the one-by-one side."""
    if database_url.startswith("sqlite"):
        (tmp_path / "second").mkdir()
        url = sqlite_url(tmp_path / "second")
    else:
        url = request.getfixturevalue("postgres").create_database(f"t_{uuid.uuid4().hex[:12]}")
    engine = create_engine(url)
    yield engine
    await engine.dispose()


def messages() -> tuple[list[Envelope[Any]], list[Envelope[Any]]]:
    """Plans for two accounts (a third has none yet), then a run of charges: at renewal, online,
    one for the account without a plan, and the same activation twice under two event ids."""
    with_plan, other, without_plan = account(), account(), account()
    plans = [plan_contracted(with_plan), plan_contracted(other)]
    at_renewal = charge_scheduled(with_plan, date(2027, 2, 10), (USERS, 2), (DTE_100, 1))
    again = charge_scheduled(
        with_plan, date(2027, 2, 10), (USERS, 2), activation_id=str(at_renewal.payload.activation_id)
    )
    charges = [
        at_renewal,
        charge_scheduled(other, date(2027, 2, 12), (USERS, 1), mode=PaymentMode.ONLINE),
        charge_scheduled(without_plan, date(2027, 2, 13), (DTE_100, 3)),
        again,
        charge_scheduled(with_plan, date(2027, 2, 20), (USERS, 1), mode=PaymentMode.ONLINE),
    ]
    return plans, charges


async def state(billing: Harness) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]], list[tuple[str, str]]]:
    charges = sorted(tuple(str(row[column]) for column in CHARGE_COLUMNS) for row in await billing.rows("charges"))
    orders = sorted((row["order_id"], row["account_id"], row["status"]) for row in await billing.rows("orders"))
    emitted = sorted((message["type"], message["account_id"]) for message in await billing.relay())
    return charges, orders, emitted


async def test_a_run_of_charges_ends_as_the_same_charges_one_by_one(engine, second_engine, caplog):
    plans, charges = messages()
    together = await harness(definition(BillingSettings()), engine)
    one_by_one = await harness(definition(BillingSettings()), second_engine)
    for billing in (together, one_by_one):
        for plan in plans:
            await billing.deliver(plan)
    caplog.set_level(logging.INFO, logger="tienda.messaging.processor")
    outcomes = await together.deliver_batch(list(charges))
    assert "rolled back" not in caplog.text  # the run was handled together, not retried one by one
    alone = [await one_by_one.deliver(charge) for charge in charges]
    assert outcomes == alone == [Outcome.PROCESSED] * 5
    charges_together, orders_together, emitted_together = await state(together)
    assert (charges_together, orders_together, emitted_together) == await state(one_by_one)
    assert len(charges_together) == 5  # two lines, one, one, (the repeated activation: none), one
    assert sum(1 for row in charges_together if row[5] == "waiting_for_plan") == 1
    assert len(orders_together) == 2  # the two online activations
