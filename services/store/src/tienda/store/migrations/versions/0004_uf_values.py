"""The UF values of the indicator feed, one per day, so that the store can quote a cart in pesos.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "uf_values",
        sa.Column("uf_date", sa.Date, primary_key=True),
        sa.Column("clp_per_uf", sa.String(20), nullable=False, comment="exact decimal text, e.g. 39123.45"),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("uf_values")
