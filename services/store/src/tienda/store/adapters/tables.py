"""The store's own database: catalog versions, account plans and their status history,
entitlements, activations, reductions, requests waiting for their account's plan; plus the
messaging tables."""

from pathlib import Path

from sqlalchemy import (
    JSON,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from tienda.messaging.tables import MessagingTables

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
"""Alembic migrations of this database; each worker upgrades to the head at start."""

metadata = MetaData()
messaging = MessagingTables(metadata)

catalog_versions = Table(
    "catalog_versions",
    metadata,
    Column("version", String(40), primary_key=True),
    Column("effective_from", Date, nullable=False, unique=True),
    Column("description", Text, nullable=False),
    Column("loaded_at", DateTime(timezone=True), nullable=False),
    Column("source", String(300), nullable=False),
)

catalog_items = Table(
    "catalog_items",
    metadata,
    Column("version", ForeignKey("catalog_versions.version"), primary_key=True),
    Column("sku", String(40), primary_key=True),
    Column("description", String(200), nullable=False),
    Column("resource", String(60), nullable=False),
    Column("unit_price_uf", Numeric(16, 4), nullable=False),
    Column("min_quantity", Integer, nullable=False),
    Column("max_quantity", Integer, nullable=False),
    Column("units_per_quantity", Integer, nullable=False),
    Column("requires", JSON, nullable=False),
    Column("plans", JSON, nullable=False),
)

account_plans = Table(
    "account_plans",
    metadata,
    Column("account_id", String(64), primary_key=True),
    Column("plan_code", String(40), nullable=False),
    Column("plan_name", String(200), nullable=False),
    Column("billing_cycle", String(20), nullable=False),
    Column("renewal_anchor", Date, nullable=False),
    Column("plan_price_uf", Numeric(16, 4), nullable=False),
    Column("status", String(20), nullable=False),
    Column("suspended_reason", String(500), nullable=True),
    Column("revision", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("since", DateTime(timezone=True), nullable=True),  # the first PlanContracted occurred
    Column("restated_at", DateTime(timezone=True), nullable=True),  # the latest PlanContracted occurred
    Column("restated_by_event_id", String(36), nullable=True),
    Column("status_since", DateTime(timezone=True), nullable=True),  # the latest status change occurred
)

status_changes = Table(
    "status_changes",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("account_id", String(64), nullable=False, index=True),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("status", String(20), nullable=False),
    Column("reason", String(500), nullable=True),
)

waiting_requests = Table(
    "waiting_requests",
    metadata,
    Column("position", Integer, primary_key=True, autoincrement=True),
    Column("account_id", String(64), nullable=False, index=True),
    Column("kind", String(20), nullable=False),  # cart, reduction
    Column("request_id", String(64), nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("message", Text, nullable=False),
    Column("waiting_since", DateTime(timezone=True), nullable=False, index=True),
    UniqueConstraint("account_id", "kind", "request_id", name="uq_waiting_request"),
)

activations = Table(
    "activations",
    metadata,
    Column("activation_id", String(36), primary_key=True),
    Column("account_id", String(64), nullable=False, index=True),
    Column("request_id", String(64), nullable=False),
    Column("payment_mode", String(20), nullable=False),
    Column("effective_date", Date, nullable=False),
    Column("requested_by_user_id", String(64), nullable=False),
    Column("requested_by_name", String(200), nullable=False),
    Column("requested_by_email", String(320), nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("activated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("account_id", "request_id", name="uq_activation_request"),
)

activation_lines = Table(
    "activation_lines",
    metadata,
    Column("activation_id", ForeignKey("activations.activation_id"), primary_key=True),
    Column("line", Integer, primary_key=True),
    Column("sku", String(40), nullable=False),
    Column("description", String(200), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price_uf", Numeric(16, 4), nullable=False),
)

entitlements = Table(
    "entitlements",
    metadata,
    Column("account_id", String(64), primary_key=True),
    Column("resource", String(60), primary_key=True),
    Column("quantity", Integer, nullable=False),  # usable today: included + purchased (a module counts once)
    Column("included", Integer, nullable=False, server_default="0"),
    Column("purchased", Integer, nullable=False, server_default="0"),
)

reductions = Table(
    "reductions",
    metadata,
    Column("reduction_id", String(36), primary_key=True),
    Column("account_id", String(64), nullable=False, index=True),
    Column("request_id", String(64), nullable=False),
    Column("requested_by_user_id", String(64), nullable=False),
    Column("requested_by_name", String(200), nullable=False),
    Column("requested_by_email", String(320), nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("status", String(20), nullable=False),  # scheduled, applied
    Column("applied_at", DateTime(timezone=True), nullable=True),
    Column("applied_by_event_id", String(36), nullable=True),
    UniqueConstraint("account_id", "request_id", name="uq_reduction_request"),
)

reduction_lines = Table(
    "reduction_lines",
    metadata,
    Column("reduction_id", ForeignKey("reductions.reduction_id"), primary_key=True),
    Column("line", Integer, primary_key=True),
    Column("sku", String(40), nullable=False),
    Column("description", String(200), nullable=False),
    Column("resource", String(60), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("units", Integer, nullable=False),
    Column("unit_price_uf", Numeric(16, 4), nullable=False),
)

uf_values = Table(
    "uf_values",
    metadata,
    Column("uf_date", Date, primary_key=True),
    Column("clp_per_uf", String(20), nullable=False, comment="exact decimal text, e.g. 39123.45"),
    Column("event_id", String(36), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)
"""The day's UF values, read from tienda.indicators.uf for quotes (billing keeps its own)."""
