"""The all-or-nothing decision on a cart: every line is valid, or nothing is activated.

Every line is checked and every failure reported, so the customer fixes the cart once.

A cart takes effect on the day (in Chile) the customer activated it, never before the account's
plan began: a cart that reached the store before its plan, and waited for it, takes effect on the
day of the cart or of the plan, whichever is later, and is priced with the catalog in force on
that day. Either order of arrival gives the same date, prices and proration start.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from tienda.store.domain.catalog import Catalog, Product
from tienda.store.domain.plan import Account, Standing
from tienda.store.domain.refusals import Reason, Refusal, repeated_skus, unknown_account


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
class Decision:
    activated: tuple[ActivatedItem, ...]
    refusals: tuple[Refusal, ...]

    @property
    def accepted(self) -> bool:
        return not self.refusals


def effective_moment(occurred_at: datetime, account: Account) -> datetime:
    """When a cart takes effect: when it occurred, or when the account's first plan did if later."""
    return max(occurred_at, account.since) if account.since else occurred_at


def decide(
    cart: Sequence[CartItem], catalog: Catalog, account: Account | None, standing: Standing | None = None
) -> Decision:
    """Check the account and every line against the catalog in force and the account's entitlements.
    ``standing``: the account's status when the customer activated the cart (default: its status now)."""
    refusals = _account_refusals(account, standing)
    refusals += [
        refusal for line, item in enumerate(cart, start=1) for refusal in _check(line, item, cart, catalog, account)
    ]
    refusals += repeated_skus([item.sku for item in cart])
    if refusals:
        return Decision((), tuple(sorted(refusals, key=lambda r: r.line or 0)))
    return Decision(tuple(ActivatedItem(catalog[item.sku], item.quantity) for item in cart), ())


def granted(items: Sequence[ActivatedItem]) -> dict[str, int]:
    """How much of each resource the activated items add."""
    added: dict[str, int] = {}
    for item in items:
        resource = item.product.resource
        added[resource] = added.get(resource, 0) + item.quantity * item.product.units_per_quantity
    return added


def _account_refusals(account: Account | None, standing: Standing | None) -> list[Refusal]:
    if account is None:
        return [unknown_account()]
    standing = standing or account.standing
    if standing.suspended:
        reason = f" ({standing.reason})" if standing.reason else ""
        message = f"This account is suspended{reason}; it can buy again once reinstated."
        return [Refusal(None, None, Reason.ACCOUNT_SUSPENDED, message)]
    return []


def _check(
    line: int, item: CartItem, cart: Sequence[CartItem], catalog: Catalog, account: Account | None
) -> list[Refusal]:
    product = catalog.get(item.sku)
    if product is None:
        return [Refusal(line, item.sku, Reason.UNKNOWN_SKU, f"{item.sku} is not in the catalog.")]
    refusals = []
    if not product.min_quantity <= item.quantity <= product.max_quantity:
        message = (
            f"{product.description}: quantity {item.quantity} is outside "
            f"{product.min_quantity} to {product.max_quantity}."
        )
        refusals.append(Refusal(line, item.sku, Reason.QUANTITY_OUT_OF_BOUNDS, message))
    if account is not None:
        refusals += _against_account(line, product, cart, catalog, account)
    return refusals


def _against_account(
    line: int, product: Product, cart: Sequence[CartItem], catalog: Catalog, account: Account
) -> list[Refusal]:
    refusals = []
    if not product.sold_to(account.plan.code):
        message = f"{product.description} is not sold to the {account.plan.name} plan."
        refusals.append(Refusal(line, product.sku, Reason.NOT_SOLD_TO_PLAN, message))
    if product.is_module and account.quantity(product.resource):
        leaving = (
            " (its removal at the next renewal is already scheduled)"
            if account.scheduled_removal(product.resource)
            else ""
        )
        message = f"{product.description} is already active on this account{leaving}."
        refusals.append(Refusal(line, product.sku, Reason.MODULE_ALREADY_ACTIVE, message))
    in_cart = {other.sku for other in cart}
    for needed in product.requires:
        if needed in in_cart:
            continue
        resource = catalog[needed].resource if needed in catalog else needed
        if not account.quantity(resource):
            message = f"{product.description} needs {needed}, which is neither active nor in the cart."
        elif not account.at_next_renewal(resource):
            message = f"{product.description} needs {needed}, whose removal at the next renewal is scheduled."
        else:
            continue
        refusals.append(Refusal(line, product.sku, Reason.MISSING_DEPENDENCY, message))
    return refusals
