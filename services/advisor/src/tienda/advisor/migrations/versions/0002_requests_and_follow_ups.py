"""Executives and assignments, commercial requests, follow-ups; timeline entries keyed by what they are about.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("timeline", sa.Column("reference", sa.String(200), nullable=True))
    op.create_index("uq_timeline_reference", "timeline", ["account_id", "kind", "reference"], unique=True)
    op.create_table(
        "executives",
        sa.Column("executive_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
    )
    op.create_table(
        "assignments",
        sa.Column("account_id", sa.String(64), primary_key=True),
        sa.Column("executive_id", sa.String(64), nullable=False, index=True),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "requests",
        sa.Column("account_id", sa.String(64), primary_key=True),
        sa.Column("request_id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("requested_by_user_id", sa.String(64), nullable=False),
        sa.Column("requested_by_name", sa.String(200), nullable=False),
        sa.Column("requested_by_email", sa.String(320), nullable=False),
        sa.Column("contact_channel", sa.String(20), nullable=False),
        sa.Column("contact_value", sa.String(200), nullable=True),
        sa.Column("contact_when", sa.String(200), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("executive_id", sa.String(64), nullable=True, index=True),
        sa.Column("redirect_reason", sa.String(30), nullable=True),
        sa.Column("redirect_matched", sa.String(200), nullable=True),
        sa.Column("customer_message", sa.Text, nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_response_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_response_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("overdue_alerted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
    )
    op.create_index("ix_requests_awaiting_response", "requests", ["status", "first_response_due_at"])
    op.create_table(
        "follow_ups",
        sa.Column("follow_up_id", sa.String(36), primary_key=True),
        sa.Column("account_id", sa.String(64), nullable=False, index=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("reference", sa.String(200), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("executive_id", sa.String(64), nullable=True, index=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.UniqueConstraint("account_id", "kind", "reference", name="uq_follow_up"),
    )


def downgrade() -> None:
    for table in ("follow_ups", "requests", "assignments", "executives"):
        op.drop_table(table)
    op.drop_index("uq_timeline_reference", table_name="timeline")
    with op.batch_alter_table("timeline") as batch:
        batch.drop_column("reference")
