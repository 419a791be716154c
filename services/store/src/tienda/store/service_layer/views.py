"""The plan view of "Cuenta y Facturación": served by GET /accounts/{id}/plan and published
as PlanSnapshot on the compacted topic after every change of the account's plan view."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from tienda.contracts.envelope import EnvelopeHeader
from tienda.contracts.messages.activation import CartLine, Entitlement, PricedLine, RejectedLine
from tienda.contracts.messages.plans import BillingCycle
from tienda.contracts.messages.store import (
    AccountStatus,
    ActivationRecord,
    PendingReduction,
    PlanCounts,
    PlanSnapshot,
    PlanSummary,
    ReducedLine,
    ResourceHolding,
)
from tienda.contracts.types import PaymentMode, Person
from tienda.messaging.codec import decode
from tienda.messaging.tracing import current_trace_parent
from tienda.messaging.unit_of_work import UnitOfWork
from tienda.store.adapters import repository, waiting
from tienda.store.domain.plan import DTE_MONTHLY, LEGAL_ENTITIES, PAYROLL_WORKERS, USERS, Account, ReducedItem
from tienda.store.domain.refusals import Refusal
from tienda.store.domain.waiting import RequestKind, WaitingRequest

SNAPSHOT_HISTORY = 20
NO_COUNTS = PlanCounts(users=0, legal_entities=0, payroll_workers=0, dte_monthly=0)


async def plan_snapshot(
    session: AsyncSession, account: Account, as_of: datetime, history_limit: int | None = SNAPSHOT_HISTORY
) -> PlanSnapshot:
    """The account's plan view now, with its latest activations (all of them when ``history_limit`` is None)."""
    history = await repository.activation_history(session, account.account_id, history_limit)
    total = len(history)
    if history_limit is not None and total >= history_limit:
        total = await repository.activation_count(session, account.account_id)
    return PlanSnapshot(
        revision=max(account.revision, 1),
        as_of=as_of,
        plan=_summary(account),
        features=account.features(),
        counts=PlanCounts(
            users=account.quantity(USERS),
            legal_entities=account.quantity(LEGAL_ENTITIES),
            payroll_workers=account.quantity(PAYROLL_WORKERS),
            dte_monthly=account.quantity(DTE_MONTHLY),
        ),
        resources=[
            ResourceHolding(
                resource=resource,
                included=holding.included,
                purchased=holding.purchased,
                quantity=holding.total(),
                scheduled_removal=account.scheduled_removal(resource),
                at_next_renewal=account.at_next_renewal(resource),
            )
            for resource, holding in sorted(account.holdings.items())
        ],
        pending_reductions=[
            PendingReduction(
                reduction_id=reduction.reduction_id,
                request_id=reduction.request_id,
                requested_by=Person.model_validate(reduction.requested_by),
                requested_at=reduction.requested_at,
                lines=[reduced_line(item) for item in reduction.items],
            )
            for reduction in account.pending
        ],
        activations=[_record(entry) for entry in history],
        activations_total=total,
    )


class WaitingForPlan(BaseModel):
    """A cart or reduction that reached the store before the account's plan: it is handled when the
    plan arrives, in arrival order, or refused as ``unknown_account`` after the wait."""

    kind: RequestKind
    request_id: str
    requested_by: Person
    requested_at: datetime = Field(description="When the customer asked (the request's occurred_at).")
    payment_mode: PaymentMode | None = Field(description="A cart's payment mode; null for a reduction.")
    lines: list[CartLine]
    waiting_since: datetime = Field(description="When the request reached the store.")
    refused_after: datetime = Field(
        description="If the plan has not arrived by then, the store refuses it as unknown_account "
        "(at its next scheduler round)."
    )


class PlanView(BaseModel):
    """The account's plan as "Cuenta y Facturación" shows it (GET /accounts/{id}/plan)."""

    account_id: str
    plan: PlanSummary | None = Field(description="Null before the account's first PlanContracted.")
    features: list[str] = Field(description="Modules usable today, e.g. module:inventory.")
    counts: PlanCounts
    entitlements: dict[str, int] = Field(description="Quantity of each resource in force, by resource.")
    resources: list[ResourceHolding]
    pending_reductions: list[PendingReduction]
    activations: list[ActivationRecord] = Field(description="The whole activation history, newest first.")
    waiting_for_plan: list[WaitingForPlan] = Field(
        description="Carts and reductions that reached the store before the account's plan, in arrival "
        "order: pending, handled when the plan arrives (empty once the account has a plan)."
    )
    revision: int = Field(ge=0, description="Grows by one with every change of the view.")


async def plan_view(session: AsyncSession, account_id: str, now: datetime, wait: timedelta) -> PlanView:
    """The snapshot with the full history, entitlements by resource, and what waits for the plan."""
    account = await repository.load_account(session, account_id)
    waiting_for_plan = [_waiting(request, wait) for request in await waiting.of_account(session, account_id)]
    if account is None:
        return PlanView(
            account_id=account_id,
            plan=None,
            features=[],
            counts=NO_COUNTS,
            entitlements=await repository.entitlements_of(session, account_id),
            resources=[],
            pending_reductions=[],
            activations=[_record(entry) for entry in await repository.activation_history(session, account_id)],
            waiting_for_plan=waiting_for_plan,
            revision=0,
        )
    snapshot = await plan_snapshot(session, account, now, history_limit=None)
    return PlanView(
        account_id=account_id,
        plan=snapshot.plan,
        features=snapshot.features,
        counts=snapshot.counts,
        entitlements=account.quantities(),
        resources=snapshot.resources,
        pending_reductions=snapshot.pending_reductions,
        activations=snapshot.activations,
        waiting_for_plan=waiting_for_plan,
        revision=snapshot.revision,
    )


def publish_plan_view(envelope: EnvelopeHeader, uow: UnitOfWork, account: Account) -> None:
    """The account's PlanSnapshot, built when the transaction commits: once per account in a batch."""
    trace_parent = current_trace_parent()

    async def publish() -> None:
        snapshot = await plan_snapshot(uow.session, account, uow.now)
        await uow.emit(snapshot, account_id=account.account_id, cause=envelope, trace_parent=trace_parent)

    uow.before_commit(("PlanSnapshot", account.account_id), publish)


def rejected_lines(refusals: tuple[Refusal, ...]) -> list[RejectedLine]:
    return [RejectedLine(line=r.line, sku=r.sku, code=r.code.value, message=r.message) for r in refusals]


def entitlement_list(quantities: dict[str, int]) -> list[Entitlement]:
    return [Entitlement(resource=resource, quantity=quantity) for resource, quantity in sorted(quantities.items())]


def reduced_line(item: ReducedItem) -> ReducedLine:
    return ReducedLine(
        sku=item.sku,
        description=item.description,
        resource=item.resource,
        quantity=item.quantity,
        units=item.units,
        unit_price_uf=item.unit_price_uf,
    )


def _record(entry: dict[str, Any]) -> ActivationRecord:
    """A history entry read back from the store's own tables, validated when it was written:
    built without validating it again (e-mail validation alone doubled the cost of a snapshot)."""
    return ActivationRecord.model_construct(
        activation_id=UUID(entry["activation_id"]),
        request_id=entry["request_id"],
        requested_by=Person.model_construct(**entry["requested_by"]),
        payment_mode=PaymentMode(entry["payment_mode"]),
        effective_date=date.fromisoformat(entry["effective_date"]),
        activated_at=datetime.fromisoformat(entry["activated_at"]),
        lines=[
            PricedLine.model_construct(
                sku=line["sku"],
                description=line["description"],
                quantity=line["quantity"],
                unit_price_uf=Decimal(line["unit_price_uf"]),
            )
            for line in entry["lines"]
        ],
    )


def _waiting(request: WaitingRequest, wait: timedelta) -> WaitingForPlan:
    """A waiting request as the plan view lists it, read from the message as it was received."""
    envelope = decode(request.message)
    payload = envelope.payload
    return WaitingForPlan(
        kind=request.kind,
        request_id=request.request_id,
        requested_by=payload.requested_by,
        requested_at=envelope.occurred_at,
        payment_mode=payload.payment_mode if request.kind is RequestKind.CART else None,
        lines=payload.lines,
        waiting_since=request.waiting_since,
        refused_after=request.refused_after(wait),
    )


def _summary(account: Account) -> PlanSummary:
    return PlanSummary(
        code=account.plan.code,
        name=account.plan.name,
        billing_cycle=BillingCycle(account.plan.billing_cycle),
        renewal_anchor=account.plan.renewal_anchor,
        price_uf=account.plan.price_uf,
        status=AccountStatus(account.status.value),
        suspended_reason=account.suspended_reason,
    )
