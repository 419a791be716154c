"""Billing's first schema: charges, payments, inbox and outbox.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

from tienda.messaging.schema_v1 import create_messaging_tables, drop_messaging_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_messaging_tables()
    op.create_table(
        "charges",
        sa.Column("activation_id", sa.String(36), primary_key=True),
        sa.Column("line", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.String(64), nullable=False, index=True),
        sa.Column("sku", sa.String(40), nullable=False),
        sa.Column("description", sa.String(200), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("unit_price_uf", sa.Numeric(16, 4), nullable=False),
        sa.Column("effective_date", sa.Date, nullable=False),
        sa.Column("payment_mode", sa.String(20), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "payments",
        sa.Column("payment_id", sa.String(64), primary_key=True),
        sa.Column("account_id", sa.String(64), nullable=False, index=True),
        sa.Column("reference", sa.String(64), nullable=False),
        sa.Column("amount_clp", sa.Integer, nullable=False),
        sa.Column("method", sa.String(32), nullable=False),
        sa.Column("paid_by", sa.String(200), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("payments")
    op.drop_table("charges")
    drop_messaging_tables()
