"""The store's use cases, one handler per message type it consumes."""

from datetime import UTC, date, datetime
from uuid import uuid4
from zoneinfo import ZoneInfo

from tienda.contracts.envelope import Envelope
from tienda.contracts.messages.activation import (
    ActivationCompleted,
    ActivationRejected,
    ActivationRequested,
    ChargeScheduled,
    Entitlement,
    PricedLine,
    RejectedLine,
)
from tienda.messaging.processor import Handler
from tienda.messaging.unit_of_work import UnitOfWork
from tienda.store.adapters import repository
from tienda.store.domain.activation import ActivatedItem, CartItem, Decision, decide, granted
from tienda.store.domain.catalog import CATALOG

CHILE = ZoneInfo("America/Santiago")


def business_date(moment: datetime) -> date:
    """The calendar day in Chile of a moment: activations take effect on it."""
    return moment.astimezone(CHILE).date()


async def activate_resources(envelope: Envelope[ActivationRequested], uow: UnitOfWork) -> None:
    """Activate the whole cart at once, or nothing; the same request id activates once."""
    request, account_id = envelope.payload, envelope.account_id
    if await repository.activation_of_request(uow.session, account_id, request.request_id):
        return
    before = await repository.entitlements_of(uow.session, account_id)
    decision = decide([CartItem(line.sku, line.quantity) for line in request.lines], CATALOG, before)
    if decision.accepted:
        await _activate(envelope, uow, decision, before)
    else:
        await _reject(envelope, uow, decision)


async def _activate(
    envelope: Envelope[ActivationRequested], uow: UnitOfWork, decision: Decision, before: dict[str, int]
) -> None:
    request, account_id = envelope.payload, envelope.account_id
    activation_id, effective = uuid4(), business_date(envelope.occurred_at)
    after = dict(before)
    for resource, added in granted(decision.activated).items():
        after[resource] = after.get(resource, 0) + added
    await repository.add_activation(
        uow.session,
        repository.NewActivation(
            str(activation_id),
            account_id,
            request.request_id,
            request.payment_mode.value,
            effective,
            request.requested_by.model_dump(),
            str(envelope.event_id),
            datetime.now(UTC),
            decision.activated,
        ),
    )
    await repository.save_entitlements(uow.session, account_id, before, after)
    lines = [_priced(item) for item in decision.activated]
    common = {
        "activation_id": activation_id,
        "request_id": request.request_id,
        "requested_by": request.requested_by,
        "payment_mode": request.payment_mode,
        "effective_date": effective,
        "lines": lines,
    }
    await uow.emit(
        ActivationCompleted(
            **common, entitlements=[Entitlement(resource=r, quantity=q) for r, q in sorted(after.items())]
        ),
        account_id=account_id,
        cause=envelope,
    )
    await uow.emit(ChargeScheduled(**common), account_id=account_id, cause=envelope)


async def _reject(envelope: Envelope[ActivationRequested], uow: UnitOfWork, decision: Decision) -> None:
    request = envelope.payload
    reasons = [RejectedLine(line=r.line, sku=r.sku, code=r.code, message=r.message) for r in decision.refusals]
    await uow.emit(
        ActivationRejected(request_id=request.request_id, requested_by=request.requested_by, reasons=reasons),
        account_id=envelope.account_id,
        cause=envelope,
    )


def _priced(item: ActivatedItem) -> PricedLine:
    return PricedLine(
        sku=item.product.sku,
        description=item.product.description,
        quantity=item.quantity,
        unit_price_uf=item.unit_price_uf,
    )


HANDLERS: dict[str, Handler] = {ActivationRequested.message_type: activate_resources}
