"""Deciding a reduction: fewer of a resource, or a module removed, at the next renewal.

Only what was bought in the store can be reduced, SKU by SKU (billing charged those SKUs),
never below the plan's baseline and never twice; a module another active module needs stays. Every line is checked; the
request is scheduled whole or not at all. Nothing is refunded for the current period.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tienda.store.domain.activation import CartItem
from tienda.store.domain.catalog import Catalog, Product
from tienda.store.domain.plan import Account, ReducedItem
from tienda.store.domain.refusals import Reason, Refusal, repeated_skus, unknown_account


@dataclass(frozen=True)
class ReductionDecision:
    items: tuple[ReducedItem, ...]
    refusals: tuple[Refusal, ...]

    @property
    def accepted(self) -> bool:
        return not self.refusals


def decide_reduction(
    lines: Sequence[CartItem],
    products: Catalog,
    in_force: Catalog,
    account: Account | None,
    bought: Mapping[str, int],
) -> ReductionDecision:
    """``products``: the request's SKUs as last sold (even if no longer sold); ``in_force``: today's catalog;
    ``bought``: by SKU, how many the account bought in the store and has not reduced or scheduled yet
    (billing charged those SKUs, so a reduction names the SKU it undoes)."""
    refusals = [] if account else [unknown_account()]
    refusals += [
        Refusal(line, item.sku, Reason.UNKNOWN_SKU, f"{item.sku} was never sold by the store.")
        for line, item in enumerate(lines, start=1)
        if item.sku not in products
    ]
    refusals += repeated_skus([item.sku for item in lines])
    if account is not None:
        refusals += _against_account(lines, products, in_force, account, bought)
    if refusals:
        return ReductionDecision((), tuple(sorted(refusals, key=lambda r: r.line or 0)))
    return ReductionDecision(tuple(_reduced(products[item.sku], item.quantity) for item in lines), ())


def _reduced(product: Product, quantity: int) -> ReducedItem:
    units = quantity * product.units_per_quantity
    return ReducedItem(product.sku, product.description, product.resource, quantity, units, product.unit_price_uf)


def _against_account(
    lines: Sequence[CartItem], products: Catalog, in_force: Catalog, account: Account, bought: Mapping[str, int]
) -> list[Refusal]:
    removed_modules = {products[item.sku].resource for item in lines if item.sku in products}
    counted: dict[str, int] = {}
    refusals = []
    for line, item in enumerate(lines, start=1):
        product = products.get(item.sku)
        if product is None:
            continue
        if product.is_module:
            refusals += _module(line, item, product, in_force, account, removed_modules)
        else:
            units = item.quantity * product.units_per_quantity
            counted[product.resource] = counted.get(product.resource, 0) + units
            left = bought.get(product.sku, 0)
            refusals += _resource(line, product, item.quantity <= left, counted[product.resource], account, left)
    return refusals


def _resource(line: int, product: Product, sku_left: bool, units: int, account: Account, left: int) -> list[Refusal]:
    holding = account.holding(product.resource)
    if not holding.purchased and holding.included:
        message = f"The plan includes {holding.included} of {product.resource}; only a plan change lowers that."
        return [Refusal(line, product.sku, Reason.INCLUDED_IN_PLAN, message)]
    if sku_left and units <= account.removable(product.resource):
        return []
    message = (
        f"{product.description}: {min(left, account.removable(product.resource))} bought in the store can still "
        f"be removed; the {holding.included} the plan includes stay."
    )
    return [Refusal(line, product.sku, Reason.EXCEEDS_STORE_PURCHASES, message)]


def _module(
    line: int, item: CartItem, product: Product, in_force: Catalog, account: Account, removed: set[str]
) -> list[Refusal]:
    if item.quantity != 1:
        message = f"{product.description} is removed whole: quantity 1, not {item.quantity}."
        return [Refusal(line, product.sku, Reason.QUANTITY_OUT_OF_BOUNDS, message)]
    holding = account.holding(product.resource)
    if not account.quantity(product.resource):
        return [Refusal(line, product.sku, Reason.MODULE_NOT_ACTIVE, f"{product.description} is not active.")]
    if not holding.purchased:
        message = f"{product.description} comes with the plan; only a plan change removes it."
        return [Refusal(line, product.sku, Reason.INCLUDED_IN_PLAN, message)]
    if account.removable(product.resource) <= 0:
        message = f"{product.description} is already scheduled to leave at the next renewal."
        return [Refusal(line, product.sku, Reason.ALREADY_SCHEDULED, message)]
    if holding.included:
        return []
    return [
        Refusal(
            line,
            product.sku,
            Reason.REQUIRED_BY_ACTIVE_MODULE,
            f"{dependent.description} needs {product.description}; remove both, or keep it.",
        )
        for dependent in in_force.values()
        if product.sku in dependent.requires
        and dependent.resource not in removed
        and account.at_next_renewal(dependent.resource)
    ]
