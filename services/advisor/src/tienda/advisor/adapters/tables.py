"""The advisor's own database: the commercial timeline; plus the messaging tables."""

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text

from tienda.messaging.tables import MessagingTables

metadata = MetaData()
messaging = MessagingTables(metadata)

timeline = Table(
    "timeline",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", String(64), nullable=False, index=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("kind", String(60), nullable=False),
    Column("summary", Text, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
)
