"""Billing's own database: charges and payments; plus the messaging tables."""

from sqlalchemy import Column, Date, DateTime, Integer, MetaData, Numeric, String, Table

from tienda.messaging.tables import MessagingTables

metadata = MetaData()
messaging = MessagingTables(metadata)

charges = Table(
    "charges",
    metadata,
    Column("activation_id", String(36), primary_key=True),
    Column("line", Integer, primary_key=True),
    Column("account_id", String(64), nullable=False, index=True),
    Column("sku", String(40), nullable=False),
    Column("description", String(200), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price_uf", Numeric(16, 4), nullable=False),
    Column("effective_date", Date, nullable=False),
    Column("payment_mode", String(20), nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
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
    Column("paid_at", DateTime(timezone=True), nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)
