"""The advisor's own database: executives and assignments, commercial requests, follow-ups,
the commercial timeline and the executives' corrections of the triage; plus the messaging tables."""

from pathlib import Path

from sqlalchemy import Column, DateTime, Float, Index, Integer, MetaData, String, Table, Text, UniqueConstraint

from tienda.messaging.tables import MessagingTables

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
"""Alembic migrations of this database; each worker upgrades to the head at start."""

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
    Column("reference", String(200), nullable=True),
    Index("uq_timeline_reference", "account_id", "kind", "reference", unique=True),
)

executives = Table(
    "executives",
    metadata,
    Column("executive_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("email", String(320), nullable=False),
)

assignments = Table(
    "assignments",
    metadata,
    Column("account_id", String(64), primary_key=True),
    Column("executive_id", String(64), nullable=False, index=True),
    Column("source", String(20), nullable=False),
    Column("assigned_at", DateTime(timezone=True), nullable=False),
)

requests = Table(
    "requests",
    metadata,
    Column("account_id", String(64), primary_key=True),
    Column("request_id", String(64), primary_key=True),
    Column("kind", String(30), nullable=False),
    Column("text", Text, nullable=False),
    Column("requested_by_user_id", String(64), nullable=False),
    Column("requested_by_name", String(200), nullable=False),
    Column("requested_by_email", String(320), nullable=False),
    Column("contact_channel", String(20), nullable=False),
    Column("contact_value", String(200), nullable=True),
    Column("contact_when", String(200), nullable=True),
    Column("status", String(20), nullable=False),
    Column("executive_id", String(64), nullable=True, index=True),
    Column("redirect_reason", String(30), nullable=True),
    Column("redirect_matched", String(200), nullable=True),
    Column("customer_message", Text, nullable=True),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    Column("first_response_due_at", DateTime(timezone=True), nullable=True),
    Column("first_response_at", DateTime(timezone=True), nullable=True),
    Column("overdue_alerted_at", DateTime(timezone=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("triage_decision", String(20), nullable=True),
    Column("triage_confidence", Float, nullable=True),
    Index("ix_requests_awaiting_response", "status", "first_response_due_at"),
)

follow_ups = Table(
    "follow_ups",
    metadata,
    Column("follow_up_id", String(36), primary_key=True),
    Column("account_id", String(64), nullable=False, index=True),
    Column("kind", String(20), nullable=False),
    Column("reference", String(200), nullable=False),
    Column("summary", Text, nullable=False),
    Column("executive_id", String(64), nullable=True, index=True),
    Column("status", String(20), nullable=False),
    Column("raised_at", DateTime(timezone=True), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("event_id", String(36), nullable=False),
    UniqueConstraint("account_id", "kind", "reference", name="uq_follow_up"),
)

triage_corrections = Table(
    "triage_corrections",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", String(64), nullable=False),
    Column("request_id", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("automatic_decision", String(20), nullable=False),
    Column("confidence", Float, nullable=True),
    Column("label", String(20), nullable=False),
    Column("corrected_by", String(64), nullable=False),
    Column("corrected_at", DateTime(timezone=True), nullable=False, index=True),
    Column("note", Text, nullable=True),
    Column("event_id", String(36), nullable=False, unique=True),
)
