"""Catalogs and accounts for the pure domain tests (no database): the seed catalog of 2022-01."""

from datetime import date
from decimal import Decimal

from tienda.store.domain.catalog import Product
from tienda.store.domain.plan import Account, Plan

ALL_BUT_EMPRENDE = frozenset({"PYME", "PYME-PLUS", "CORPORATIVO"})

SEED = {
    product.sku: product
    for product in (
        Product("USR-EXTRA", "Usuario adicional", "users", Decimal("0.5000"), 1, 200),
        Product("DTE-100", "Pack 100 DTE mensuales", "dte_monthly", Decimal("0.6000"), 1, 100, 100),
        Product("DTE-500", "Pack 500 DTE mensuales", "dte_monthly", Decimal("2.5000"), 1, 20, 500),
        Product("TRB-EXTRA", "Trabajador adicional (remuneraciones)", "payroll_workers", Decimal("0.0500"), 1, 5000),
        Product(
            "RSO-EXTRA", "Razón social adicional", "legal_entities", Decimal("1.2000"), 1, 50, plans=ALL_BUT_EMPRENDE
        ),
        Product("MOD-REMU", "Módulo Remuneraciones", "module:payroll", Decimal("2.5000")),
        Product("MOD-INV", "Módulo Inventario", "module:inventory", Decimal("1.5000")),
        Product(
            "MOD-BI",
            "Módulo Business Intelligence",
            "module:bi",
            Decimal("2.0000"),
            requires=("MOD-INV",),
            plans=frozenset({"PYME-PLUS", "CORPORATIVO"}),
        ),
        Product(
            "MOD-PROD",
            "Módulo Producción",
            "module:production",
            Decimal("3.0000"),
            requires=("MOD-INV",),
            plans=frozenset({"CORPORATIVO"}),
        ),
    )
}


def plan(code: str = "PYME-PLUS") -> Plan:
    return Plan(code, code.title(), "monthly", date(2026, 3, 15), Decimal("4.5000"))


def account_on(code: str = "PYME-PLUS", included: dict[str, int] | None = None, **purchased: int) -> Account:
    """An account of ``code`` with the plan's ``included`` and store ``purchased`` (module_inventory=1 style)."""
    account = Account.contracted("acc-ferreteria-rojas", plan(code), included or {})
    account.grant({resource.replace("module_", "module:"): units for resource, units in purchased.items()})
    return account
