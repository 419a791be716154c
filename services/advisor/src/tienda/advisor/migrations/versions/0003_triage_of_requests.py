"""The support triage's decision and confidence, kept with each commercial request for operators.

Requests judged before this migration keep them empty (their status says what the rule decided).

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
    op.add_column("requests", sa.Column("triage_decision", sa.String(20), nullable=True))
    op.add_column("requests", sa.Column("triage_confidence", sa.Float, nullable=True))


def downgrade() -> None:
    op.drop_column("requests", "triage_confidence")
    op.drop_column("requests", "triage_decision")
