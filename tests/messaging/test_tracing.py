"""One trace follows a cart from the store to billing; log lines carry the flow's ids."""

import json
import logging
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.harness import harness
from tests.samples import account, activation_requested
from tests.samples_store import plan_contracted
from tienda.billing.bootstrap import definition as billing
from tienda.billing.config import BillingSettings
from tienda.messaging.codec import decode
from tienda.messaging.database import create_engine
from tienda.messaging.logs import JsonFormatter
from tienda.messaging.records import Record
from tienda.messaging.tracing import about, processing
from tienda.store.bootstrap import definition as store
from tienda.store.config import StoreSettings

EXPORTER = InMemorySpanExporter()


@pytest.fixture(scope="module", autouse=True)
def tracer_provider():
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(EXPORTER))
    trace.set_tracer_provider(provider)


@pytest.fixture
async def billing_engine(database_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    """Billing's own database, of the same backend as ``engine``: no two services share one (each
    has its own migrations)."""
    if database_url.startswith("sqlite"):
        url = f"sqlite+aiosqlite:///{tmp_path / 'billing.db'}"
    else:
        url = request.getfixturevalue("postgres").create_database(f"t_{uuid.uuid4().hex[:12]}")
    engine = create_engine(url)
    yield engine
    await engine.dispose()


async def test_the_charge_billing_records_is_in_the_trace_of_the_cart(engine, billing_engine):
    EXPORTER.clear()
    cart = activation_requested(account(), ("USR-EXTRA", 2))
    store_side = await harness(store(StoreSettings()), engine)
    await store_side.deliver(plan_contracted(cart.account_id))
    await store_side.deliver(cart)
    emitted = await store_side.relay()
    charge = next(message for message in emitted if message["type"] == "ChargeScheduled")
    assert charge["trace_parent"]

    billing_side = await harness(billing(BillingSettings()), billing_engine)
    outcome = await billing_side.deliver(decode(json.dumps(charge).encode()))
    assert outcome == "processed"
    [recorded] = await billing_side.rows("charges")
    assert recorded["activation_id"] == charge["payload"]["activation_id"]
    spans = {span.name: span for span in EXPORTER.get_finished_spans()}
    cart_span, charge_span = spans["store process ActivationRequested"], spans["billing process ChargeScheduled"]
    assert cart_span.context.trace_id == cart.correlation_id.int
    assert charge_span.context.trace_id == cart_span.context.trace_id
    assert charge_span.parent.span_id == cart_span.context.span_id


def test_log_lines_while_handling_a_message_carry_its_ids():
    cart = activation_requested("acc-ferreteria", ("USR-EXTRA", 1))
    formatter = JsonFormatter("store")
    with processing("store", cart, Record("tienda.activations.requested", 0, 7, None, None)):
        line = json.loads(formatter.format(logging.LogRecord("x", logging.INFO, "", 0, "activating", (), None)))
    assert (line["correlation_id"], line["event_id"], line["account_id"]) == (
        str(cart.correlation_id),
        str(cart.event_id),
        "acc-ferreteria",
    )


def _logged(formatter: JsonFormatter) -> dict[str, Any]:
    return json.loads(formatter.format(logging.LogRecord("x", logging.INFO, "", 0, "handling", (), None)))


def test_log_lines_while_handling_a_run_name_the_run_not_one_of_its_messages():
    first = activation_requested("acc-ferreteria", ("USR-EXTRA", 1))
    other = activation_requested("acc-panaderia", ("USR-EXTRA", 1))
    formatter = JsonFormatter("store")
    with processing("store", first, Record("tienda.activations.requested", 0, 7, None, None), messages=3):
        run_line = _logged(formatter)
        with about(other):
            message_line = _logged(formatter)

    assert "event_id" not in run_line
    assert "account_id" not in run_line
    assert (run_line["run_first_event_id"], run_line["run_messages"]) == (str(first.event_id), "3")
    assert (message_line["event_id"], message_line["account_id"]) == (str(other.event_id), "acc-panaderia")
