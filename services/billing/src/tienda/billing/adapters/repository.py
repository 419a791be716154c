"""Billing's read side."""

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tienda.billing.adapters.tables import charges, payments


async def charges_of(session: AsyncSession, account_id: str) -> list[dict[str, Any]]:
    rows = (
        await session.execute(
            select(charges).where(charges.c.account_id == account_id).order_by(charges.c.recorded_at, charges.c.line)
        )
    ).mappings()
    return [
        {
            "activation_id": r["activation_id"],
            "line": r["line"],
            "sku": r["sku"],
            "description": r["description"],
            "quantity": r["quantity"],
            "unit_price_uf": str(Decimal(r["unit_price_uf"]).quantize(Decimal("0.0001"))),
            "effective_date": r["effective_date"].isoformat(),
            "payment_mode": r["payment_mode"],
        }
        for r in rows
    ]


async def payments_of(session: AsyncSession, account_id: str) -> list[dict[str, Any]]:
    rows = (
        await session.execute(
            select(payments).where(payments.c.account_id == account_id).order_by(payments.c.paid_at.desc())
        )
    ).mappings()
    return [
        {
            "payment_id": r["payment_id"],
            "reference": r["reference"],
            "amount_clp": r["amount_clp"],
            "method": r["method"],
            "paid_by": r["paid_by"],
            "paid_at": r["paid_at"].isoformat(),
        }
        for r in rows
    ]
