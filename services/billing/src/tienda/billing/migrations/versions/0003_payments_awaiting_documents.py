"""Payments that wait for their document: when one was raised to operations as unmatched.

A payment whose reference names no document of the account yet waits for it (billing may not
have created the order or invoice when the gateway's payment arrives); it is raised as
unmatched only after a grace period. Payments unmatched before this migration were raised
when they were recorded.

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
    with op.batch_alter_table("payments") as payments:
        payments.add_column(sa.Column("unmatched_raised_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_payments_matched_recorded_at", "payments", ["matched", "recorded_at"])
    op.execute("UPDATE payments SET unmatched_raised_at = recorded_at WHERE NOT matched")


def downgrade() -> None:
    op.drop_index("ix_payments_matched_recorded_at", table_name="payments")
    with op.batch_alter_table("payments") as payments:
        payments.drop_column("unmatched_raised_at")
