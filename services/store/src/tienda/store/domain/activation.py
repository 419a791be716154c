"""The all-or-nothing decision on a cart: every line is valid, or nothing is activated."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from tienda.store.domain.catalog import Product


@dataclass(frozen=True)
class CartItem:
    sku: str
    quantity: int


@dataclass(frozen=True)
class ActivatedItem:
    product: Product
    quantity: int

    @property
    def unit_price_uf(self) -> Decimal:
        return self.product.unit_price_uf


@dataclass(frozen=True)
class Refusal:
    """Why one line (``line`` from 1) or the whole cart (``line`` None) cannot be activated."""

    line: int | None
    sku: str | None
    code: str
    message: str


@dataclass(frozen=True)
class Decision:
    activated: tuple[ActivatedItem, ...]
    refusals: tuple[Refusal, ...]

    @property
    def accepted(self) -> bool:
        return not self.refusals


def decide(cart: Sequence[CartItem], catalog: Mapping[str, Product], entitlements: Mapping[str, int]) -> Decision:
    """Check every line against the catalog and the account's entitlements."""
    refusals = [
        refusal
        for line, item in enumerate(cart, start=1)
        for refusal in _check(line, item, cart, catalog, entitlements)
    ]
    refusals += _repeated_skus(cart)
    if refusals:
        return Decision((), tuple(refusals))
    return Decision(tuple(ActivatedItem(catalog[item.sku], item.quantity) for item in cart), ())


def _check(
    line: int, item: CartItem, cart: Sequence[CartItem], catalog: Mapping[str, Product], entitlements: Mapping[str, int]
) -> list[Refusal]:
    product = catalog.get(item.sku)
    if product is None:
        return [Refusal(line, item.sku, "unknown_sku", f"{item.sku} is not in the catalog.")]
    refusals = []
    if not product.min_quantity <= item.quantity <= product.max_quantity:
        refusals.append(
            Refusal(
                line,
                item.sku,
                "quantity_out_of_bounds",
                f"{product.description}: quantity {item.quantity} is outside "
                f"{product.min_quantity} to {product.max_quantity}.",
            )
        )
    if product.is_module and entitlements.get(product.resource, 0) > 0:
        refusals.append(
            Refusal(
                line, item.sku, "module_already_active", f"{product.description} is already active on this account."
            )
        )
    in_cart = {other.sku for other in cart}
    for needed in product.requires:
        needed_resource = catalog[needed].resource if needed in catalog else needed
        if needed not in in_cart and entitlements.get(needed_resource, 0) == 0:
            refusals.append(
                Refusal(
                    line,
                    item.sku,
                    "missing_dependency",
                    f"{product.description} needs {needed}, which is neither active nor in the cart.",
                )
            )
    return refusals


def _repeated_skus(cart: Sequence[CartItem]) -> list[Refusal]:
    seen: set[str] = set()
    refusals = []
    for line, item in enumerate(cart, start=1):
        if item.sku in seen:
            refusals.append(
                Refusal(
                    line,
                    item.sku,
                    "repeated_sku",
                    f"{item.sku} appears twice in the cart; put the total quantity on one line.",
                )
            )
        seen.add(item.sku)
    return refusals


def granted(items: Sequence[ActivatedItem]) -> dict[str, int]:
    """How much of each resource the activated items add."""
    added: dict[str, int] = {}
    for item in items:
        resource = item.product.resource
        added[resource] = added.get(resource, 0) + item.quantity * item.product.units_per_quantity
    return added
