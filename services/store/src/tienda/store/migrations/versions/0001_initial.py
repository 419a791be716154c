"""The store's first schema: activations, lines, entitlements, inbox and outbox.

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
        "activations",
        sa.Column("activation_id", sa.String(36), primary_key=True),
        sa.Column("account_id", sa.String(64), nullable=False, index=True),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("payment_mode", sa.String(20), nullable=False),
        sa.Column("effective_date", sa.Date, nullable=False),
        sa.Column("requested_by_user_id", sa.String(64), nullable=False),
        sa.Column("requested_by_name", sa.String(200), nullable=False),
        sa.Column("requested_by_email", sa.String(320), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("account_id", "request_id", name="uq_activation_request"),
    )
    op.create_table(
        "activation_lines",
        sa.Column("activation_id", sa.String(36), sa.ForeignKey("activations.activation_id"), primary_key=True),
        sa.Column("line", sa.Integer, primary_key=True),
        sa.Column("sku", sa.String(40), nullable=False),
        sa.Column("description", sa.String(200), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("unit_price_uf", sa.Numeric(16, 4), nullable=False),
    )
    op.create_table(
        "entitlements",
        sa.Column("account_id", sa.String(64), primary_key=True),
        sa.Column("resource", sa.String(60), primary_key=True),
        sa.Column("quantity", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    for table in ("entitlements", "activation_lines", "activations"):
        op.drop_table(table)
    drop_messaging_tables()
