"""Reading and writing the store's tables inside a unit of work."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import RowMapping, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tienda.store.adapters.tables import activation_lines, activations, entitlements
from tienda.store.domain.activation import ActivatedItem


@dataclass(frozen=True)
class NewActivation:
    activation_id: str
    account_id: str
    request_id: str
    payment_mode: str
    effective_date: date
    requested_by: Mapping[str, str]
    event_id: str
    activated_at: datetime
    items: Sequence[ActivatedItem]


async def activation_of_request(session: AsyncSession, account_id: str, request_id: str) -> str | None:
    """The activation id already made for this request, if any."""
    return await session.scalar(
        select(activations.c.activation_id).where(
            activations.c.account_id == account_id, activations.c.request_id == request_id
        )
    )


async def entitlements_of(session: AsyncSession, account_id: str) -> dict[str, int]:
    rows = await session.execute(
        select(entitlements.c.resource, entitlements.c.quantity).where(entitlements.c.account_id == account_id)
    )
    return {row.resource: row.quantity for row in rows}


async def add_activation(session: AsyncSession, activation: NewActivation) -> None:
    who = activation.requested_by
    await session.execute(
        insert(activations).values(
            activation_id=activation.activation_id,
            account_id=activation.account_id,
            request_id=activation.request_id,
            payment_mode=activation.payment_mode,
            effective_date=activation.effective_date,
            requested_by_user_id=who["user_id"],
            requested_by_name=who["name"],
            requested_by_email=who["email"],
            event_id=activation.event_id,
            activated_at=activation.activated_at,
        )
    )
    await session.execute(
        insert(activation_lines),
        [
            {
                "activation_id": activation.activation_id,
                "line": line,
                "sku": item.product.sku,
                "description": item.product.description,
                "quantity": item.quantity,
                "unit_price_uf": item.unit_price_uf,
            }
            for line, item in enumerate(activation.items, start=1)
        ],
    )


async def save_entitlements(
    session: AsyncSession, account_id: str, before: Mapping[str, int], after: Mapping[str, int]
) -> None:
    for resource, quantity in after.items():
        if resource in before:
            await session.execute(
                update(entitlements)
                .where(entitlements.c.account_id == account_id, entitlements.c.resource == resource)
                .values(quantity=quantity)
            )
        else:
            await session.execute(
                insert(entitlements).values(account_id=account_id, resource=resource, quantity=quantity)
            )


async def activation_history(session: AsyncSession, account_id: str) -> list[dict[str, Any]]:
    """Every activation of the account, newest first, with its lines."""
    heads = (
        (
            await session.execute(
                select(activations)
                .where(activations.c.account_id == account_id)
                .order_by(activations.c.activated_at.desc())
            )
        )
        .mappings()
        .all()
    )
    lines = (
        (
            await session.execute(
                select(activation_lines)
                .where(activation_lines.c.activation_id.in_([h["activation_id"] for h in heads]))
                .order_by(activation_lines.c.line)
            )
        )
        .mappings()
        .all()
    )
    return [
        _history_entry(head, [line for line in lines if line["activation_id"] == head["activation_id"]])
        for head in heads
    ]


def _history_entry(head: RowMapping, lines: Sequence[RowMapping]) -> dict[str, Any]:
    return {
        "activation_id": head["activation_id"],
        "request_id": head["request_id"],
        "payment_mode": head["payment_mode"],
        "effective_date": head["effective_date"].isoformat(),
        "activated_at": head["activated_at"].isoformat(),
        "requested_by": {
            "user_id": head["requested_by_user_id"],
            "name": head["requested_by_name"],
            "email": head["requested_by_email"],
        },
        "lines": [
            {
                "sku": line["sku"],
                "description": line["description"],
                "quantity": line["quantity"],
                "unit_price_uf": str(Decimal(line["unit_price_uf"]).quantize(Decimal("0.0001"))),
            }
            for line in lines
        ],
    }
