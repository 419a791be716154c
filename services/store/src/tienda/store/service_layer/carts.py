"""A cart (ActivationRequested) decided for an account the store knows: activated whole, or refused.

Called by its handler, and by a PlanContracted for the carts that waited for it (``waiting.py``):
either way the same rules, the same effective date and the same prices (``domain/activation.py``).
"""

from datetime import date, datetime
from uuid import uuid4

from tienda.contracts.business_day import business_date
from tienda.contracts.envelope import Envelope
from tienda.contracts.messages.activation import (
    ActivationCompleted,
    ActivationRejected,
    ActivationRequested,
    ChargeScheduled,
    PricedLine,
)
from tienda.messaging.unit_of_work import UnitOfWork
from tienda.store.adapters import repository
from tienda.store.domain.activation import ActivatedItem, CartItem, Decision, decide, effective_moment, granted
from tienda.store.domain.plan import Account, Standing, standing_at
from tienda.store.domain.refusals import Refusal
from tienda.store.service_layer.views import entitlement_list, publish_plan_view, rejected_lines


async def decide_cart(
    envelope: Envelope[ActivationRequested], uow: UnitOfWork, account: Account, *, counted: bool = True
) -> None:
    """Activate the whole cart, or refuse it naming every bad line; the same request id activates once.
    ``counted``: a refusal counts as the outcome of the message being handled (not so for a cart
    handled by its account's PlanContracted)."""
    request = envelope.payload
    if await repository.activation_of_request(uow.session, account.account_id, request.request_id):
        return
    effective = business_date(effective_moment(envelope.occurred_at, account))
    catalog = await repository.catalog_on(uow.session, effective)
    standing = await _standing_at(uow, account, envelope.occurred_at)
    decision = decide([CartItem(line.sku, line.quantity) for line in request.lines], catalog, account, standing)
    if decision.accepted:
        await _activate(envelope, uow, decision, account, effective)
    else:
        await refuse_cart(envelope, uow, decision.refusals, counted=counted)


async def refuse_unknown_account(envelope: Envelope[ActivationRequested], uow: UnitOfWork) -> None:
    """A cart whose account's plan never came within the wait: ``unknown_account``, and every bad line
    named against the catalog of the cart's day, as for any refused cart."""
    catalog = await repository.catalog_on(uow.session, business_date(envelope.occurred_at))
    cart = [CartItem(line.sku, line.quantity) for line in envelope.payload.lines]
    await refuse_cart(envelope, uow, decide(cart, catalog, None).refusals, counted=False)


async def refuse_cart(
    envelope: Envelope[ActivationRequested], uow: UnitOfWork, refusals: tuple[Refusal, ...], *, counted: bool
) -> None:
    request = envelope.payload
    rejected = ActivationRejected(
        request_id=request.request_id, requested_by=request.requested_by, reasons=rejected_lines(refusals)
    )
    await uow.emit(rejected, account_id=envelope.account_id, cause=envelope)
    if counted:
        uow.mark_rejected()


async def _standing_at(uow: UnitOfWork, account: Account, moment: datetime) -> Standing:
    """The account's standing when the customer activated the cart, as far as the store has heard."""
    if not account.standing_changed_after(moment):
        return account.standing
    return standing_at(await repository.status_history(uow.session, account.account_id), moment)


async def _activate(
    envelope: Envelope[ActivationRequested], uow: UnitOfWork, decision: Decision, account: Account, effective: date
) -> None:
    request, now = envelope.payload, uow.now
    activation_id = uuid4()
    account.grant(granted(decision.activated))
    account.revision += 1
    await repository.add_activation(
        uow.session,
        repository.NewActivation(
            str(activation_id),
            account.account_id,
            request.request_id,
            request.payment_mode.value,
            effective,
            request.requested_by.model_dump(),
            str(envelope.event_id),
            now,
            decision.activated,
        ),
    )
    await repository.save_account(uow.session, account, now, new=False)
    common = {
        "activation_id": activation_id,
        "request_id": request.request_id,
        "requested_by": request.requested_by,
        "payment_mode": request.payment_mode,
        "effective_date": effective,
        "lines": [_priced(item) for item in decision.activated],
    }
    entitlements = entitlement_list(account.quantities())
    await uow.emit(
        ActivationCompleted(**common, entitlements=entitlements), account_id=account.account_id, cause=envelope
    )
    await uow.emit(ChargeScheduled(**common), account_id=account.account_id, cause=envelope)
    publish_plan_view(envelope, uow, account)


def _priced(item: ActivatedItem) -> PricedLine:
    return PricedLine(
        sku=item.product.sku,
        description=item.product.description,
        quantity=item.quantity,
        unit_price_uf=item.unit_price_uf,
    )
