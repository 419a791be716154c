"""The store's use cases, one handler per message type it consumes (which type goes to which
handler: ``entrypoints/consumer.py``; the rules they apply: ``domain/``).

Every handler that changes an account's plan view publishes a PlanSnapshot after its
other messages, in the same transaction, built at commit: a batch that changes one account
several times publishes its last view once. Handlers of one account serialize on its
``account_plans`` row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite writers already
queue) before they look for an earlier request with the same id, so two instances during
a rebalance neither interleave on one account nor both activate one request.
"""

from datetime import date
from uuid import UUID, uuid4

from tienda.contracts.business_day import business_date
from tienda.contracts.envelope import Envelope, EnvelopeHeader
from tienda.contracts.messages.activation import (
    ActivationCompleted,
    ActivationRejected,
    ActivationRequested,
    ChargeScheduled,
    PricedLine,
    RejectedLine,
)
from tienda.contracts.messages.plans import AccountReinstated, AccountSuspended, PlanContracted
from tienda.contracts.messages.store import ReductionRejected, ReductionRequested, ReductionScheduled
from tienda.messaging.errors import UnresolvableReference
from tienda.messaging.tracing import current_trace_parent
from tienda.messaging.unit_of_work import UnitOfWork
from tienda.store.adapters import repository
from tienda.store.domain.activation import ActivatedItem, CartItem, Decision, decide, granted
from tienda.store.domain.plan import Account, Plan, Reduction, baseline
from tienda.store.domain.reduction import ReductionDecision, decide_reduction
from tienda.store.domain.refusals import Refusal
from tienda.store.service_layer.views import entitlement_list, plan_snapshot, reduced_line

# --------------------------------------------------------------------------- activation


async def activate_resources(envelope: Envelope[ActivationRequested], uow: UnitOfWork) -> None:
    """Activate the whole cart at once, or nothing; the same request id activates once."""
    request, account_id = envelope.payload, envelope.account_id
    account = await repository.load_account(uow.session, account_id, lock=True)
    if await repository.activation_of_request(uow.session, account_id, request.request_id):
        return
    effective = business_date(envelope.occurred_at)
    catalog = await repository.catalog_on(uow.session, effective)
    decision = decide([CartItem(line.sku, line.quantity) for line in request.lines], catalog, account)
    if decision.accepted and account is not None:
        await _activate(envelope, uow, decision, account, effective)
    else:
        await _reject_cart(envelope, uow, decision.refusals)


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
    await _publish_view(envelope, uow, account)


async def _reject_cart(envelope: Envelope[ActivationRequested], uow: UnitOfWork, refusals: tuple[Refusal, ...]) -> None:
    request = envelope.payload
    rejected = ActivationRejected(
        request_id=request.request_id, requested_by=request.requested_by, reasons=_reasons(refusals)
    )
    await uow.emit(rejected, account_id=envelope.account_id, cause=envelope)
    uow.mark_rejected()


def _priced(item: ActivatedItem) -> PricedLine:
    return PricedLine(
        sku=item.product.sku,
        description=item.product.description,
        quantity=item.quantity,
        unit_price_uf=item.unit_price_uf,
    )


# --------------------------------------------------------------------------- reduction


async def schedule_reduction(envelope: Envelope[ReductionRequested], uow: UnitOfWork) -> None:
    """Accept a reduction for the next renewal, or refuse it whole; the same request id schedules once."""
    request, account_id = envelope.payload, envelope.account_id
    account = await repository.load_account(uow.session, account_id, lock=True)
    if await repository.reduction_of_request(uow.session, account_id, request.request_id):
        return
    day = business_date(envelope.occurred_at)
    lines = [CartItem(line.sku, line.quantity) for line in request.lines]
    products = await repository.products_as_last_sold(uow.session, {line.sku for line in lines}, day)
    in_force = await repository.catalog_on(uow.session, day)
    bought = await repository.sku_quantities_left(uow.session, account_id)
    decision = decide_reduction(lines, products, in_force, account, bought)
    if decision.accepted and account is not None:
        await _schedule(envelope, uow, decision, account, day)
    else:
        await _reject_reduction(envelope, uow, decision.refusals)


async def _schedule(
    envelope: Envelope[ReductionRequested], uow: UnitOfWork, decision: ReductionDecision, account: Account, day: date
) -> None:
    request = envelope.payload
    reduction = Reduction(
        str(uuid4()), request.request_id, request.requested_by.model_dump(), envelope.occurred_at, decision.items
    )
    account.schedule(reduction)
    account.revision += 1
    await repository.add_reduction(uow.session, account.account_id, reduction, str(envelope.event_id))
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
    await _publish_view(envelope, uow, account)


async def _reject_reduction(
    envelope: Envelope[ReductionRequested], uow: UnitOfWork, refusals: tuple[Refusal, ...]
) -> None:
    request = envelope.payload
    rejected = ReductionRejected(
        request_id=request.request_id, requested_by=request.requested_by, reasons=_reasons(refusals)
    )
    await uow.emit(rejected, account_id=envelope.account_id, cause=envelope)
    uow.mark_rejected()


# --------------------------------------------------------------------------- plans


async def contract_plan(envelope: Envelope[PlanContracted], uow: UnitOfWork) -> None:
    """A new baseline for the account. Reductions requested before it take effect now (a renewal
    or a plan change restates the plan); what was bought in the store stays."""
    contracted, now = envelope.payload, uow.now
    plan = Plan(
        contracted.plan_code,
        contracted.plan_name,
        contracted.billing_cycle.value,
        contracted.renewal_anchor,
        contracted.plan_price_uf,
    )
    included = baseline(((e.resource, e.quantity) for e in contracted.included), contracted.modules)
    account = await repository.load_account(uow.session, envelope.account_id, lock=True)
    if account is None:
        account = await repository.new_account(uow.session, envelope.account_id, plan)
        account.contract(plan, included)
        account.revision = 1
        await repository.save_account(uow.session, account, now, new=True)
    else:
        applied = account.renew(envelope.occurred_at)
        account.contract(plan, included)
        account.revision += 1
        await repository.mark_applied(uow.session, applied, now, str(envelope.event_id))
        await repository.save_account(uow.session, account, now, new=False)
    await _publish_view(envelope, uow, account)


async def suspend_account(envelope: Envelope[AccountSuspended], uow: UnitOfWork) -> None:
    account = await _known_account(envelope, uow)
    if account.suspend(envelope.payload.reason):
        await _changed_status(envelope, uow, account)


async def reinstate_account(envelope: Envelope[AccountReinstated], uow: UnitOfWork) -> None:
    account = await _known_account(envelope, uow)
    if account.reinstate():
        await _changed_status(envelope, uow, account)


async def _known_account(envelope: EnvelopeHeader, uow: UnitOfWork) -> Account:
    """Suspension and reinstatement travel on the plans topic after the plan, in order: an
    account without a plan there never contracted one."""
    account = await repository.load_account(uow.session, envelope.account_id, lock=True)
    if account is None:
        raise UnresolvableReference(f"{envelope.type} for account {envelope.account_id}, which never contracted a plan")
    return account


async def _changed_status(envelope: EnvelopeHeader, uow: UnitOfWork, account: Account) -> None:
    now = uow.now
    account.revision += 1
    await repository.save_account(uow.session, account, now, new=False)
    await _publish_view(envelope, uow, account)


# --------------------------------------------------------------------------- shared


async def _publish_view(envelope: EnvelopeHeader, uow: UnitOfWork, account: Account) -> None:
    """The account's PlanSnapshot, built when the transaction commits: once per account in a batch."""
    trace_parent = current_trace_parent()

    async def publish() -> None:
        snapshot = await plan_snapshot(uow.session, account, uow.now)
        await uow.emit(snapshot, account_id=account.account_id, cause=envelope, trace_parent=trace_parent)

    uow.before_commit(("PlanSnapshot", account.account_id), publish)


def _reasons(refusals: tuple[Refusal, ...]) -> list[RejectedLine]:
    return [RejectedLine(line=r.line, sku=r.sku, code=r.code.value, message=r.message) for r in refusals]
