"""Billing accounts, UF values, orders, invoices, card autopay, billing data, reductions.

Charges gain their status, period and documents; payments gain what they matched.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UF = sa.Numeric(16, 4)
UF_VALUE = sa.Numeric(12, 2)
CLP = sa.BigInteger
WHEN = sa.DateTime(timezone=True)


def _person(prefix: str) -> list[sa.Column[str]]:
    return [
        sa.Column(f"{prefix}_user_id", sa.String(64), nullable=True),
        sa.Column(f"{prefix}_name", sa.String(200), nullable=True),
        sa.Column(f"{prefix}_email", sa.String(320), nullable=True),
    ]


def upgrade() -> None:
    _charges_and_payments()
    _accounts_and_values()
    _documents()
    _autopay_and_requests()


def _charges_and_payments() -> None:
    with op.batch_alter_table("charges") as charges:
        charges.add_column(sa.Column("status", sa.String(20), nullable=False, server_default="waiting_for_plan"))
        charges.add_column(sa.Column("request_id", sa.String(64), nullable=True))
        for column in _person("requested_by"):
            charges.add_column(column)
        charges.add_column(sa.Column("period_start", sa.Date, nullable=True))
        charges.add_column(sa.Column("period_end", sa.Date, nullable=True))
        charges.add_column(sa.Column("months", sa.Integer, nullable=True))
        charges.add_column(sa.Column("order_id", sa.String(64), nullable=True))
        charges.add_column(sa.Column("invoice_id", sa.String(64), nullable=True))
        charges.add_column(sa.Column("recurring_through", sa.Date, nullable=True))
    op.create_index("ix_charges_status", "charges", ["status"])
    op.create_index("ix_charges_order_id", "charges", ["order_id"])
    op.create_index("ix_charges_invoice_id", "charges", ["invoice_id"])
    with op.batch_alter_table("payments") as payments:
        payments.add_column(sa.Column("matched", sa.Boolean, nullable=False, server_default=sa.true()))
        payments.add_column(sa.Column("document_id", sa.String(64), nullable=True))
        payments.add_column(sa.Column("document_kind", sa.String(10), nullable=True))
        payments.add_column(sa.Column("applied_clp", CLP, nullable=True))
        payments.add_column(sa.Column("credit_clp", CLP, nullable=True))


def _accounts_and_values() -> None:
    op.create_table(
        "billing_accounts",
        sa.Column("account_id", sa.String(64), primary_key=True),
        sa.Column("plan_code", sa.String(40), nullable=False),
        sa.Column("plan_name", sa.String(200), nullable=False),
        sa.Column("cycle", sa.String(10), nullable=False),
        sa.Column("anchor", sa.Date, nullable=False),
        sa.Column("plan_price_uf", UF, nullable=False),
        sa.Column("current_period_start", sa.Date, nullable=False),
        sa.Column("current_period_end", sa.Date, nullable=False),
        sa.Column("next_renewal", sa.Date, nullable=False, index=True),
        sa.Column("credit_clp", CLP, nullable=False),
        sa.Column("suspended", sa.Boolean, nullable=False),
        sa.Column("suspended_reason", sa.String(500), nullable=True),
        sa.Column("updated_at", WHEN, nullable=False),
    )
    op.create_table(
        "uf_values",
        sa.Column("uf_date", sa.Date, primary_key=True),
        sa.Column("clp_per_uf", UF_VALUE, nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("recorded_at", WHEN, nullable=False),
    )
    op.create_table(
        "billing_data",
        sa.Column("account_id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("legal_name", sa.String(500), nullable=False),
        sa.Column("rut", sa.String(12), nullable=False),
        sa.Column("business_activity", sa.String(500), nullable=False),
        sa.Column("address", sa.String(500), nullable=False),
        sa.Column("comuna", sa.String(500), nullable=False),
        sa.Column("city", sa.String(500), nullable=False),
        sa.Column("billing_email", sa.String(500), nullable=False),
        sa.Column("submission_id", sa.String(64), nullable=False),
        *_person("submitted_by"),
        sa.Column("accepted_at", WHEN, nullable=False),
    )
    op.create_table(
        "billing_data_submissions",
        sa.Column("account_id", sa.String(64), primary_key=True),
        sa.Column("submission_id", sa.String(64), primary_key=True),
        sa.Column("accepted", sa.Boolean, nullable=False),
        sa.Column("version", sa.Integer, nullable=True),
        sa.Column("problems", sa.Text, nullable=True),
        sa.Column("decided_at", WHEN, nullable=False),
    )
    op.create_table(
        "reductions",
        sa.Column("reduction_id", sa.String(36), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.String(64), nullable=False, index=True),
        sa.Column("sku", sa.String(40), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("activation_id", sa.String(36), nullable=True),
        sa.Column("activation_line", sa.Integer, nullable=True),
        sa.Column("effective_from", sa.Date, nullable=True),
        sa.Column("recorded_at", WHEN, nullable=False),
    )
    op.create_table(
        "billing_views",
        sa.Column("account_id", sa.String(64), primary_key=True),
        sa.Column("revision", sa.Integer, nullable=False),
    )


def _documents() -> None:
    op.create_table(
        "orders",
        sa.Column("order_id", sa.String(64), primary_key=True),
        sa.Column("account_id", sa.String(64), nullable=False, index=True),
        sa.Column("activation_id", sa.String(36), nullable=False, unique=True),
        sa.Column("request_id", sa.String(64), nullable=False),
        *_person("ordered_by"),
        sa.Column("order_date", sa.Date, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("uf_date", sa.Date, nullable=False),
        sa.Column("clp_per_uf", UF_VALUE, nullable=True),
        sa.Column("net_clp", CLP, nullable=True),
        sa.Column("iva_clp", CLP, nullable=True),
        sa.Column("total_clp", CLP, nullable=True),
        sa.Column("paid_clp", CLP, nullable=False),
        sa.Column("carried_into", sa.String(64), nullable=True),
        sa.Column("invoice_id", sa.String(64), nullable=True),
        sa.Column("held_since", WHEN, nullable=True),
        sa.Column("hold_alerted_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
    )
    op.create_table(
        "invoices",
        sa.Column("invoice_id", sa.String(64), primary_key=True),
        sa.Column("account_id", sa.String(64), nullable=False, index=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("issue_date", sa.Date, nullable=False),
        sa.Column("period_start", sa.Date, nullable=True),
        sa.Column("period_end", sa.Date, nullable=True),
        sa.Column("order_id", sa.String(64), nullable=True),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("uf_date", sa.Date, nullable=False),
        sa.Column("clp_per_uf", UF_VALUE, nullable=True),
        sa.Column("net_clp", CLP, nullable=True),
        sa.Column("iva_clp", CLP, nullable=True),
        sa.Column("total_clp", CLP, nullable=True),
        sa.Column("credit_applied_clp", CLP, nullable=False),
        sa.Column("paid_clp", CLP, nullable=False),
        sa.Column("billing_data_version", sa.Integer, nullable=True),
        sa.Column("held_since", WHEN, nullable=True),
        sa.Column("hold_alerted_at", WHEN, nullable=True),
        sa.Column("autopay_status", sa.String(20), nullable=True, index=True),
        sa.Column("autopay_attempts", sa.Integer, nullable=False),
        sa.Column("autopay_failures", sa.Integer, nullable=False),
        sa.Column("autopay_first_failure_at", WHEN, nullable=True),
        sa.Column("autopay_last_reason", sa.String(500), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("issued_at", WHEN, nullable=True),
        sa.UniqueConstraint("account_id", "period_start", name="uq_invoices_one_per_account_and_period"),
    )
    op.create_table(
        "invoice_lines",
        sa.Column("invoice_id", sa.String(64), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("description", sa.String(200), nullable=False),
        sa.Column("sku", sa.String(40), nullable=True),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("unit_price_uf", UF, nullable=False),
        sa.Column("months", sa.Integer, nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.Column("days", sa.Integer, nullable=False),
        sa.Column("fixed_uf_date", sa.Date, nullable=True),
        sa.Column("fixed_clp_per_uf", UF_VALUE, nullable=True),
        sa.Column("uf_date", sa.Date, nullable=True),
        sa.Column("clp_per_uf", UF_VALUE, nullable=True),
        sa.Column("amount_clp", CLP, nullable=True),
        sa.Column("activation_id", sa.String(36), nullable=True),
        sa.Column("activation_line", sa.Integer, nullable=True),
        sa.Column("order_id", sa.String(64), nullable=True),
    )


def _autopay_and_requests() -> None:
    op.create_table(
        "cards",
        sa.Column("account_id", sa.String(64), primary_key=True),
        sa.Column("token_reference", sa.String(128), nullable=False),
        sa.Column("brand", sa.String(32), nullable=False),
        sa.Column("last_four", sa.String(4), nullable=False),
        *_person("subscribed_by"),
        sa.Column("subscribed_at", WHEN, nullable=False),
    )
    op.create_table(
        "payment_failures",
        sa.Column("payment_id", sa.String(64), primary_key=True),
        sa.Column("account_id", sa.String(64), nullable=False, index=True),
        sa.Column("reference", sa.String(64), nullable=False),
        sa.Column("amount_clp", CLP, nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("failed_at", WHEN, nullable=False),
        sa.Column("recorded_at", WHEN, nullable=False),
    )
    op.create_table(
        "payment_requests",
        sa.Column("request_id", sa.String(64), primary_key=True),
        sa.Column("account_id", sa.String(64), nullable=False, index=True),
        sa.Column("invoice_id", sa.String(64), nullable=False, index=True),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("amount_clp", CLP, nullable=False),
        sa.Column("token_reference", sa.String(128), nullable=False),
        sa.Column("requested_at", WHEN, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "payment_requests",
        "payment_failures",
        "cards",
        "invoice_lines",
        "invoices",
        "orders",
        "billing_views",
        "reductions",
        "billing_data_submissions",
        "billing_data",
        "uf_values",
        "billing_accounts",
    ):
        op.drop_table(table)
    with op.batch_alter_table("payments") as payments:
        for column in ("credit_clp", "applied_clp", "document_kind", "document_id", "matched"):
            payments.drop_column(column)
    op.drop_index("ix_charges_invoice_id", table_name="charges")
    op.drop_index("ix_charges_order_id", table_name="charges")
    op.drop_index("ix_charges_status", table_name="charges")
    with op.batch_alter_table("charges") as charges:
        for column in (
            "recurring_through",
            "invoice_id",
            "order_id",
            "months",
            "period_end",
            "period_start",
            "requested_by_email",
            "requested_by_name",
            "requested_by_user_id",
            "request_id",
            "status",
        ):
            charges.drop_column(column)
