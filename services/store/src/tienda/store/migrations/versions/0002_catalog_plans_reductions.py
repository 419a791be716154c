"""Catalog versions as data (seeded with the catalog of 2022-01), account plans, the plan's
baseline beside store purchases in entitlements, and reductions scheduled for renewal.

Entitlements that existed before this revision were all bought in the store: they become
``purchased``. The seed is written out here, frozen: later catalogs are loaded with
``python -m tienda.store.catalog load FILE.json``, never by editing this file.

Revision ID: 0002
Revises: 0001
"""

from datetime import UTC, date, datetime
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SEED_VERSION = "2022-01"
SEED_EFFECTIVE_FROM = date(2022, 1, 1)
SEED_DESCRIPTION = (
    "Catálogo inicial de la Tienda Defontana: desde el 1 de enero de 2022 usuarios, DTE, "
    "razones sociales, trabajadores y módulos se compran en la Tienda con activación inmediata."
)
ALL_BUT_EMPRENDE = ["PYME", "PYME-PLUS", "CORPORATIVO"]
SEED_PRODUCTS = [
    # sku, description, resource, unit price UF/month, min, max, units per quantity, requires, plans
    ("USR-EXTRA", "Usuario adicional", "users", "0.5000", 1, 200, 1, [], []),
    ("DTE-100", "Pack 100 DTE mensuales", "dte_monthly", "0.6000", 1, 100, 100, [], []),
    ("DTE-500", "Pack 500 DTE mensuales", "dte_monthly", "2.5000", 1, 20, 500, [], []),
    ("TRB-EXTRA", "Trabajador adicional (remuneraciones)", "payroll_workers", "0.0500", 1, 5000, 1, [], []),
    ("RSO-EXTRA", "Razón social adicional", "legal_entities", "1.2000", 1, 50, 1, [], ALL_BUT_EMPRENDE),
    ("MOD-REMU", "Módulo Remuneraciones", "module:payroll", "2.5000", 1, 1, 1, [], []),
    ("MOD-INV", "Módulo Inventario", "module:inventory", "1.5000", 1, 1, 1, [], []),
    (
        "MOD-BI",
        "Módulo Business Intelligence",
        "module:bi",
        "2.0000",
        1,
        1,
        1,
        ["MOD-INV"],
        ["PYME-PLUS", "CORPORATIVO"],
    ),
    ("MOD-PROD", "Módulo Producción", "module:production", "3.0000", 1, 1, 1, ["MOD-INV"], ["CORPORATIVO"]),
]

PERSON = [
    sa.Column("requested_by_user_id", sa.String(64), nullable=False),
    sa.Column("requested_by_name", sa.String(200), nullable=False),
    sa.Column("requested_by_email", sa.String(320), nullable=False),
]


def upgrade() -> None:
    _catalog()
    _plans_and_entitlements()
    _reductions()
    _seed()


def _catalog() -> None:
    op.create_table(
        "catalog_versions",
        sa.Column("version", sa.String(40), primary_key=True),
        sa.Column("effective_from", sa.Date, nullable=False, unique=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(300), nullable=False),
    )
    op.create_table(
        "catalog_items",
        sa.Column("version", sa.String(40), sa.ForeignKey("catalog_versions.version"), primary_key=True),
        sa.Column("sku", sa.String(40), primary_key=True),
        sa.Column("description", sa.String(200), nullable=False),
        sa.Column("resource", sa.String(60), nullable=False),
        sa.Column("unit_price_uf", sa.Numeric(16, 4), nullable=False),
        sa.Column("min_quantity", sa.Integer, nullable=False),
        sa.Column("max_quantity", sa.Integer, nullable=False),
        sa.Column("units_per_quantity", sa.Integer, nullable=False),
        sa.Column("requires", sa.JSON, nullable=False),
        sa.Column("plans", sa.JSON, nullable=False),
    )


def _plans_and_entitlements() -> None:
    op.create_table(
        "account_plans",
        sa.Column("account_id", sa.String(64), primary_key=True),
        sa.Column("plan_code", sa.String(40), nullable=False),
        sa.Column("plan_name", sa.String(200), nullable=False),
        sa.Column("billing_cycle", sa.String(20), nullable=False),
        sa.Column("renewal_anchor", sa.Date, nullable=False),
        sa.Column("plan_price_uf", sa.Numeric(16, 4), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("suspended_reason", sa.String(500), nullable=True),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("entitlements") as batch:
        batch.add_column(sa.Column("included", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("purchased", sa.Integer, nullable=False, server_default="0"))
    op.execute("UPDATE entitlements SET purchased = quantity")


def _reductions() -> None:
    op.create_table(
        "reductions",
        sa.Column("reduction_id", sa.String(36), primary_key=True),
        sa.Column("account_id", sa.String(64), nullable=False, index=True),
        sa.Column("request_id", sa.String(64), nullable=False),
        *PERSON,
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("applied_by_event_id", sa.String(36), nullable=True),
        sa.UniqueConstraint("account_id", "request_id", name="uq_reduction_request"),
    )
    op.create_table(
        "reduction_lines",
        sa.Column("reduction_id", sa.String(36), sa.ForeignKey("reductions.reduction_id"), primary_key=True),
        sa.Column("line", sa.Integer, primary_key=True),
        sa.Column("sku", sa.String(40), nullable=False),
        sa.Column("description", sa.String(200), nullable=False),
        sa.Column("resource", sa.String(60), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("units", sa.Integer, nullable=False),
        sa.Column("unit_price_uf", sa.Numeric(16, 4), nullable=False),
    )


def _seed() -> None:
    versions = sa.table(
        "catalog_versions",
        sa.column("version", sa.String),
        sa.column("effective_from", sa.Date),
        sa.column("description", sa.Text),
        sa.column("loaded_at", sa.DateTime(timezone=True)),
        sa.column("source", sa.String),
    )
    items = sa.table(
        "catalog_items",
        *(sa.column(name, sa.String) for name in ("version", "sku", "description", "resource")),
        sa.column("unit_price_uf", sa.Numeric(16, 4)),
        *(sa.column(name, sa.Integer) for name in ("min_quantity", "max_quantity", "units_per_quantity")),
        sa.column("requires", sa.JSON),
        sa.column("plans", sa.JSON),
    )
    op.bulk_insert(
        versions,
        [
            {
                "version": SEED_VERSION,
                "effective_from": SEED_EFFECTIVE_FROM,
                "description": SEED_DESCRIPTION,
                "loaded_at": datetime.now(UTC),
                "source": "migration 0002",
            }
        ],
    )
    op.bulk_insert(
        items,
        [
            {
                "version": SEED_VERSION,
                "sku": sku,
                "description": description,
                "resource": resource,
                "unit_price_uf": Decimal(price),
                "min_quantity": low,
                "max_quantity": high,
                "units_per_quantity": units,
                "requires": requires,
                "plans": plans,
            }
            for sku, description, resource, price, low, high, units, requires, plans in SEED_PRODUCTS
        ],
    )


def downgrade() -> None:
    for table in ("reduction_lines", "reductions", "account_plans", "catalog_items", "catalog_versions"):
        op.drop_table(table)
    with op.batch_alter_table("entitlements") as batch:
        batch.drop_column("purchased")
        batch.drop_column("included")
