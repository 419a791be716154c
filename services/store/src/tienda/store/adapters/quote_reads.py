"""What a cart quote reads, on a read-only Core connection (no ORM session, no lock).

A quote runs at the rate the ERP web asks, so its account read is one statement: the account's
plan row joined to its holdings, with whether a reduction is scheduled (``EXISTS``). Only an
account with scheduled reductions costs the two more statements that read them, as the
activation reads them. The Account built is the one ``repository.load_account`` builds from the
same rows, so ``decide`` judges the quote as it judges the activation.
"""

from datetime import date
from decimal import Decimal

from sqlalchemy import bindparam, exists, select
from sqlalchemy.ext.asyncio import AsyncConnection

from tienda.store.adapters.repository import SCHEDULED, account_of_row, pending_reductions, product_of_row
from tienda.store.adapters.tables import (
    account_plans,
    catalog_items,
    catalog_versions,
    entitlements,
    reductions,
    uf_values,
)
from tienda.store.domain.catalog import Product
from tienda.store.domain.plan import Account, Holding

_REDUCING = (
    exists()
    .where(reductions.c.account_id == account_plans.c.account_id, reductions.c.status == SCHEDULED)
    .label("reducing")
)
_ACCOUNT = (
    select(
        account_plans,
        entitlements.c.resource.label("held_resource"),
        entitlements.c.included.label("held_included"),
        entitlements.c.purchased.label("held_purchased"),
        _REDUCING,
    )
    .outerjoin(entitlements, entitlements.c.account_id == account_plans.c.account_id)
    .where(account_plans.c.account_id == bindparam("account_id"))
)
_VERSION_IN_FORCE = (
    select(catalog_versions.c.version)
    .where(catalog_versions.c.effective_from <= bindparam("day"))
    .order_by(catalog_versions.c.effective_from.desc())
    .limit(1)
    .scalar_subquery()
)
_CATALOG_ON = select(catalog_items).where(catalog_items.c.version == _VERSION_IN_FORCE)
_UF_VALUE = select(uf_values.c.clp_per_uf).where(uf_values.c.uf_date == bindparam("day"))


async def account_to_quote(connection: AsyncConnection, account_id: str) -> Account | None:
    """The account with its holdings and pending reductions, or None: one statement unless it has
    reductions scheduled."""
    rows = (await connection.execute(_ACCOUNT, {"account_id": account_id})).mappings().all()
    if not rows:
        return None
    holdings = {
        row["held_resource"]: Holding(row["held_resource"], row["held_included"], row["held_purchased"])
        for row in rows
        if row["held_resource"] is not None
    }
    pending = (await pending_reductions(connection, [account_id])).get(account_id, []) if rows[0]["reducing"] else []
    return account_of_row(rows[0], holdings, pending)


async def catalog_on(connection: AsyncConnection, day: date) -> dict[str, Product]:
    """The products of the catalog version in force on ``day``, by SKU."""
    rows = await connection.execute(_CATALOG_ON, {"day": day})
    return {row["sku"]: product_of_row(row) for row in rows.mappings()}


async def uf_value(connection: AsyncConnection, day: date) -> Decimal | None:
    """Pesos per UF on ``day``, or None when the store has not read it."""
    value = await connection.scalar(_UF_VALUE, {"day": day})
    return Decimal(value) if value is not None else None
