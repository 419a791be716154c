"""Billing's own database, plus the messaging tables.

Money columns: UF as NUMERIC with 4 decimals, pesos per UF with 2, CLP as integers; moments
in UTC. Their column types (``columns``) read back exact decimals and aware moments on both
databases. Columns that hold pesos of a document are NULL while the document waits for a UF value.
"""

from pathlib import Path

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    true,
)

from tienda.billing.adapters.columns import ClpPerUf, UfAmount, UtcDateTime
from tienda.messaging.tables import MessagingTables

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
"""Alembic migrations of this database; each worker upgrades to the head at start."""

metadata = MetaData()
messaging = MessagingTables(metadata)

Clp = BigInteger


def _person(prefix: str) -> list[Column[str]]:
    return [
        Column(f"{prefix}_user_id", String(64), nullable=True),
        Column(f"{prefix}_name", String(200), nullable=True),
        Column(f"{prefix}_email", String(320), nullable=True),
    ]


charges = Table(
    "charges",
    metadata,
    Column("activation_id", String(36), primary_key=True),
    Column("line", Integer, primary_key=True),
    Column("account_id", String(64), nullable=False, index=True),
    Column("sku", String(40), nullable=False),
    Column("description", String(200), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price_uf", UfAmount(), nullable=False),
    Column("effective_date", Date, nullable=False),
    Column("payment_mode", String(20), nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
    # since 0002
    Column("status", String(20), nullable=False, server_default="waiting_for_plan", index=True),
    Column("request_id", String(64), nullable=True),
    *_person("requested_by"),
    Column("period_start", Date, nullable=True),
    Column("period_end", Date, nullable=True),
    Column("months", Integer, nullable=True),
    Column("order_id", String(64), nullable=True, index=True),
    Column("invoice_id", String(64), nullable=True, index=True),
    Column("recurring_through", Date, nullable=True),
)

payments = Table(
    "payments",
    metadata,
    Column("payment_id", String(64), primary_key=True),
    Column("account_id", String(64), nullable=False, index=True),
    Column("reference", String(64), nullable=False),
    Column("amount_clp", Integer, nullable=False),
    Column("method", String(32), nullable=False),
    Column("paid_by", String(200), nullable=False),
    Column("paid_at", UtcDateTime(), nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
    # since 0002
    Column("matched", Boolean, nullable=False, server_default=true()),
    Column("document_id", String(64), nullable=True),
    Column("document_kind", String(10), nullable=True),
    Column("applied_clp", Clp, nullable=True),
    Column("credit_clp", Clp, nullable=True),
    # since 0003
    Column("unmatched_raised_at", UtcDateTime(), nullable=True),
    Index("ix_payments_matched_recorded_at", "matched", "recorded_at"),
)

billing_accounts = Table(
    "billing_accounts",
    metadata,
    Column("account_id", String(64), primary_key=True),
    Column("plan_code", String(40), nullable=False),
    Column("plan_name", String(200), nullable=False),
    Column("cycle", String(10), nullable=False),
    Column("anchor", Date, nullable=False),
    Column("plan_price_uf", UfAmount(), nullable=False),
    Column("current_period_start", Date, nullable=False),
    Column("current_period_end", Date, nullable=False),
    Column("next_renewal", Date, nullable=False, index=True),
    Column("credit_clp", Clp, nullable=False),
    Column("suspended", Boolean, nullable=False),
    Column("suspended_reason", String(500), nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
)

uf_values = Table(
    "uf_values",
    metadata,
    Column("uf_date", Date, primary_key=True),
    Column("clp_per_uf", ClpPerUf(), nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
)

orders = Table(
    "orders",
    metadata,
    Column("order_id", String(64), primary_key=True),
    Column("account_id", String(64), nullable=False, index=True),
    Column("activation_id", String(36), nullable=False, unique=True),
    Column("request_id", String(64), nullable=False),
    *_person("ordered_by"),
    Column("order_date", Date, nullable=False),
    Column("status", String(20), nullable=False),
    Column("uf_date", Date, nullable=False),
    Column("clp_per_uf", ClpPerUf(), nullable=True),
    Column("net_clp", Clp, nullable=True),
    Column("iva_clp", Clp, nullable=True),
    Column("total_clp", Clp, nullable=True),
    Column("paid_clp", Clp, nullable=False),
    Column("carried_into", String(64), nullable=True),
    Column("invoice_id", String(64), nullable=True),
    Column("held_since", UtcDateTime(), nullable=True),
    Column("hold_alerted_at", UtcDateTime(), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
)

invoices = Table(
    "invoices",
    metadata,
    Column("invoice_id", String(64), primary_key=True),
    Column("account_id", String(64), nullable=False, index=True),
    Column("kind", String(10), nullable=False),
    Column("issue_date", Date, nullable=False),
    Column("period_start", Date, nullable=True),
    Column("period_end", Date, nullable=True),
    Column("order_id", String(64), nullable=True),
    Column("status", String(20), nullable=False, index=True),
    Column("uf_date", Date, nullable=False),
    Column("clp_per_uf", ClpPerUf(), nullable=True),
    Column("net_clp", Clp, nullable=True),
    Column("iva_clp", Clp, nullable=True),
    Column("total_clp", Clp, nullable=True),
    Column("credit_applied_clp", Clp, nullable=False),
    Column("paid_clp", Clp, nullable=False),
    Column("billing_data_version", Integer, nullable=True),
    Column("held_since", UtcDateTime(), nullable=True),
    Column("hold_alerted_at", UtcDateTime(), nullable=True),
    Column("autopay_status", String(20), nullable=True, index=True),
    Column("autopay_attempts", Integer, nullable=False),
    Column("autopay_failures", Integer, nullable=False),
    Column("autopay_first_failure_at", UtcDateTime(), nullable=True),
    Column("autopay_last_reason", String(500), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("issued_at", UtcDateTime(), nullable=True),
    UniqueConstraint("account_id", "period_start", name="uq_invoices_one_per_account_and_period"),
)

invoice_lines = Table(
    "invoice_lines",
    metadata,
    Column("invoice_id", String(64), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("kind", String(10), nullable=False),
    Column("description", String(200), nullable=False),
    Column("sku", String(40), nullable=True),
    Column("quantity", Integer, nullable=False),
    Column("unit_price_uf", UfAmount(), nullable=False),
    Column("months", Integer, nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("days", Integer, nullable=False),
    Column("fixed_uf_date", Date, nullable=True),
    Column("fixed_clp_per_uf", ClpPerUf(), nullable=True),
    Column("uf_date", Date, nullable=True),
    Column("clp_per_uf", ClpPerUf(), nullable=True),
    Column("amount_clp", Clp, nullable=True),
    Column("activation_id", String(36), nullable=True),
    Column("activation_line", Integer, nullable=True),
    Column("order_id", String(64), nullable=True),
)

payment_failures = Table(
    "payment_failures",
    metadata,
    Column("payment_id", String(64), primary_key=True),
    Column("account_id", String(64), nullable=False, index=True),
    Column("reference", String(64), nullable=False),
    Column("amount_clp", Clp, nullable=False),
    Column("reason", String(500), nullable=False),
    Column("failed_at", UtcDateTime(), nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
)

payment_requests = Table(
    "payment_requests",
    metadata,
    Column("request_id", String(64), primary_key=True),
    Column("account_id", String(64), nullable=False, index=True),
    Column("invoice_id", String(64), nullable=False, index=True),
    Column("attempt", Integer, nullable=False),
    Column("amount_clp", Clp, nullable=False),
    Column("token_reference", String(128), nullable=False),
    Column("requested_at", UtcDateTime(), nullable=False),
)

cards = Table(
    "cards",
    metadata,
    Column("account_id", String(64), primary_key=True),
    Column("token_reference", String(128), nullable=False),
    Column("brand", String(32), nullable=False),
    Column("last_four", String(4), nullable=False),
    *_person("subscribed_by"),
    Column("subscribed_at", UtcDateTime(), nullable=False),
)

billing_data = Table(
    "billing_data",
    metadata,
    Column("account_id", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("legal_name", String(500), nullable=False),
    Column("rut", String(12), nullable=False),
    Column("business_activity", String(500), nullable=False),
    Column("address", String(500), nullable=False),
    Column("comuna", String(500), nullable=False),
    Column("city", String(500), nullable=False),
    Column("billing_email", String(500), nullable=False),
    Column("submission_id", String(64), nullable=False),
    *_person("submitted_by"),
    Column("accepted_at", UtcDateTime(), nullable=False),
)

billing_data_submissions = Table(
    "billing_data_submissions",
    metadata,
    Column("account_id", String(64), primary_key=True),
    Column("submission_id", String(64), primary_key=True),
    Column("accepted", Boolean, nullable=False),
    Column("version", Integer, nullable=True),
    Column("problems", Text, nullable=True),
    Column("decided_at", UtcDateTime(), nullable=False),
)

reductions = Table(
    "reductions",
    metadata,
    Column("reduction_id", String(36), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("account_id", String(64), nullable=False, index=True),
    Column("sku", String(40), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("activation_id", String(36), nullable=True),
    Column("activation_line", Integer, nullable=True),
    Column("effective_from", Date, nullable=True),
    Column("recorded_at", UtcDateTime(), nullable=False),
)

billing_views = Table(
    "billing_views",
    metadata,
    Column("account_id", String(64), primary_key=True),
    Column("revision", Integer, nullable=False),
)
