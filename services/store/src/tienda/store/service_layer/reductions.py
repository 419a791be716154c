"""A reduction (ReductionRequested) decided for an account the store knows: scheduled for the next
renewal, or refused whole. Called by its handler, and by a PlanContracted for the reductions that
waited for it (``waiting.py``)."""

from datetime import date
from uuid import UUID, uuid4

from tienda.contracts.business_day import business_date
from tienda.contracts.envelope import Envelope
from tienda.contracts.messages.store import ReductionRejected, ReductionRequested, ReductionScheduled
from tienda.messaging.unit_of_work import UnitOfWork
from tienda.store.adapters import repository
from tienda.store.domain.activation import CartItem
from tienda.store.domain.plan import Account, Reduction
from tienda.store.domain.reduction import ReductionDecision, decide_reduction
from tienda.store.domain.refusals import Refusal
from tienda.store.service_layer.views import entitlement_list, publish_plan_view, reduced_line, rejected_lines


async def decide_reduction_request(
    envelope: Envelope[ReductionRequested], uow: UnitOfWork, account: Account, *, counted: bool = True
) -> None:
    """Schedule the reduction for the next renewal, or refuse it whole; the same request id schedules once."""
    request, account_id = envelope.payload, account.account_id
    if await repository.reduction_of_request(uow.session, account_id, request.request_id):
        return
    day = business_date(envelope.occurred_at)
    lines = [CartItem(line.sku, line.quantity) for line in request.lines]
    products = await repository.products_as_last_sold(uow.session, {line.sku for line in lines}, day)
    in_force = await repository.catalog_on(uow.session, day)
    bought = await repository.sku_quantities_left(uow.session, account_id)
    decision = decide_reduction(lines, products, in_force, account, bought)
    if decision.accepted:
        await _schedule(envelope, uow, decision, account, day)
    else:
        await refuse_reduction(envelope, uow, decision.refusals, counted=counted)


async def refuse_unknown_account(envelope: Envelope[ReductionRequested], uow: UnitOfWork) -> None:
    """A reduction whose account's plan never came within the wait: ``unknown_account``, every bad line named."""
    day = business_date(envelope.occurred_at)
    lines = [CartItem(line.sku, line.quantity) for line in envelope.payload.lines]
    products = await repository.products_as_last_sold(uow.session, {line.sku for line in lines}, day)
    decision = decide_reduction(lines, products, await repository.catalog_on(uow.session, day), None, {})
    await refuse_reduction(envelope, uow, decision.refusals, counted=False)


async def refuse_reduction(
    envelope: Envelope[ReductionRequested], uow: UnitOfWork, refusals: tuple[Refusal, ...], *, counted: bool
) -> None:
    request = envelope.payload
    rejected = ReductionRejected(
        request_id=request.request_id, requested_by=request.requested_by, reasons=rejected_lines(refusals)
    )
    await uow.emit(rejected, account_id=envelope.account_id, cause=envelope)
    if counted:
        uow.mark_rejected()


async def _schedule(
    envelope: Envelope[ReductionRequested], uow: UnitOfWork, decision: ReductionDecision, account: Account, day: date
) -> None:
    request = envelope.payload
    reduction = Reduction(
        str(uuid4()), request.request_id, request.requested_by.model_dump(), envelope.occurred_at, decision.items
    )
    applied = account.schedule(reduction)
    account.revision += 1
    await repository.add_reduction(uow.session, account.account_id, reduction, str(envelope.event_id))
    if applied:
        await repository.mark_applied(uow.session, applied, uow.now, account.restated_by or str(envelope.event_id))
        await repository.save_account(uow.session, account, uow.now, new=False)
    else:
        await repository.save_revision(uow.session, account, uow.now)
    scheduled = ReductionScheduled(
        reduction_id=UUID(reduction.reduction_id),
        request_id=request.request_id,
        requested_by=request.requested_by,
        requested_on=day,
        lines=[reduced_line(item) for item in decision.items],
        entitlements_after=entitlement_list(account.quantities_at_next_renewal()),
    )
    await uow.emit(scheduled, account_id=account.account_id, cause=envelope)
    publish_plan_view(envelope, uow, account)
