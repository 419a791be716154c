"""The store's own database: activations, their lines, entitlements; plus the messaging tables."""

from sqlalchemy import Column, Date, DateTime, ForeignKey, Integer, MetaData, Numeric, String, Table, UniqueConstraint

from tienda.messaging.tables import MessagingTables

metadata = MetaData()
messaging = MessagingTables(metadata)

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
    Column("quantity", Integer, nullable=False),
)
