"""Requests that wait for their account's plan, and the moments that make the store's decisions
independent of the order in which its two topics arrive: when the account's first and latest
PlanContracted occurred, and its status history (suspensions and reinstatements).

Accounts that existed before this revision keep NULL moments: no floor on a cart's effective
date, no late reduction applied at once until their next PlanContracted, their current status
for every cart.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("account_plans") as batch:
        batch.add_column(sa.Column("since", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("restated_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("restated_by_event_id", sa.String(36), nullable=True))
        batch.add_column(sa.Column("status_since", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "status_changes",
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("account_id", sa.String(64), nullable=False, index=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(500), nullable=True),
    )
    op.create_table(
        "waiting_requests",
        sa.Column("position", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account_id", sa.String(64), nullable=False, index=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("waiting_since", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.UniqueConstraint("account_id", "kind", "request_id", name="uq_waiting_request"),
    )


def downgrade() -> None:
    op.drop_table("waiting_requests")
    op.drop_table("status_changes")
    with op.batch_alter_table("account_plans") as batch:
        for column in ("status_since", "restated_by_event_id", "restated_at", "since"):
            batch.drop_column(column)
