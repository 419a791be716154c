"""Billing's use cases, one handler per message type it consumes."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select

from tienda.billing.adapters.tables import charges, payments
from tienda.contracts.envelope import Envelope
from tienda.contracts.messages.activation import ChargeScheduled
from tienda.contracts.messages.payment import PaymentReceived
from tienda.messaging.processor import Handler
from tienda.messaging.unit_of_work import UnitOfWork


async def record_charge(envelope: Envelope[ChargeScheduled], uow: UnitOfWork) -> None:
    """Keep each line of the activation's charge; an activation is charged once."""
    charge = envelope.payload
    known = await uow.session.scalar(
        select(charges.c.activation_id).where(charges.c.activation_id == str(charge.activation_id)).limit(1)
    )
    if known:
        return
    await uow.session.execute(
        insert(charges), [_charge_row(envelope, line, item) for line, item in enumerate(charge.lines, start=1)]
    )


def _charge_row(envelope: Envelope[ChargeScheduled], line: int, item: Any) -> dict[str, Any]:
    charge = envelope.payload
    return {
        "activation_id": str(charge.activation_id),
        "line": line,
        "account_id": envelope.account_id,
        "sku": item.sku,
        "description": item.description,
        "quantity": item.quantity,
        "unit_price_uf": item.unit_price_uf,
        "effective_date": charge.effective_date,
        "payment_mode": charge.payment_mode.value,
        "event_id": str(envelope.event_id),
        "recorded_at": datetime.now(UTC),
    }


async def record_payment(envelope: Envelope[PaymentReceived], uow: UnitOfWork) -> None:
    """Keep the payment; the same gateway payment id again has no second effect."""
    payment = envelope.payload
    if await uow.session.scalar(select(payments.c.payment_id).where(payments.c.payment_id == payment.payment_id)):
        return
    await uow.session.execute(
        insert(payments).values(
            payment_id=payment.payment_id,
            account_id=envelope.account_id,
            reference=payment.reference,
            amount_clp=payment.amount_clp,
            method=payment.method,
            paid_by=payment.paid_by,
            paid_at=payment.paid_at,
            event_id=str(envelope.event_id),
            recorded_at=datetime.now(UTC),
        )
    )


HANDLERS: dict[str, Handler] = {
    ChargeScheduled.message_type: record_charge,
    PaymentReceived.message_type: record_payment,
}
