"""What the store sells: resources added to a plan, priced per unit per month in UF."""

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Product:
    """A SKU of the catalog."""

    sku: str
    description: str
    resource: str
    unit_price_uf: Decimal
    min_quantity: int = 1
    max_quantity: int = 1
    units_per_quantity: int = 1
    requires: tuple[str, ...] = ()

    @property
    def is_module(self) -> bool:
        return self.resource.startswith("module:")


CATALOG: dict[str, Product] = {
    product.sku: product
    for product in (
        Product("USR-EXTRA", "Usuario adicional", "users", Decimal("0.5000"), 1, 200),
        Product("DTE-100", "Pack 100 DTE mensuales", "dte_monthly", Decimal("0.6000"), 1, 100, 100),
        Product("TRB-EXTRA", "Trabajador adicional (remuneraciones)", "payroll_workers", Decimal("0.0500"), 1, 5000),
        Product("RSO-EXTRA", "Razón social adicional", "legal_entities", Decimal("1.2000"), 1, 50),
        Product("MOD-REMU", "Módulo Remuneraciones", "module:payroll", Decimal("2.5000")),
        Product("MOD-INV", "Módulo Inventario", "module:inventory", Decimal("1.5000")),
        Product("MOD-BI", "Módulo Business Intelligence", "module:bi", Decimal("2.0000"), requires=("MOD-INV",)),
    )
}
