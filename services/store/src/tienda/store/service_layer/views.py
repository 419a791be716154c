"""The plan view of "Cuenta y Facturación": served by GET /accounts/{id}/plan and published
as PlanSnapshot on the compacted topic after every change of the account's plan view."""

import asyncio
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
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
from tienda.store.adapters import activations, repository, waiting
from tienda.store.adapters.activations import History, HistoryEntry
from tienda.store.domain.plan import DTE_MONTHLY, LEGAL_ENTITIES, PAYROLL_WORKERS, USERS, Account, ReducedItem
from tienda.store.domain.refusals import Refusal
from tienda.store.domain.waiting import RequestKind, WaitingRequest

SNAPSHOT_HISTORY = 20
"""How many of the latest activations a PlanSnapshot carries (the plan view: all of them)."""
SNAPSHOTS_PER_STEP = 5
"""Snapshots built between two yields to the event loop."""
NO_COUNTS = PlanCounts(users=0, legal_entities=0, payroll_workers=0, dte_monthly=0)
NO_HISTORY = History([], 0)


def plan_snapshot(account: Account, records: list[ActivationRecord], total: int, as_of: datetime) -> PlanSnapshot:
    """The account's plan view now, with these activations (newest first) of ``total``."""
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
        activations=records,
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
    history = (await activations.latest_activations(session, [account_id])).get(account_id, NO_HISTORY)
    if account is None:
        return PlanView(
            account_id=account_id,
            plan=None,
            features=[],
            counts=NO_COUNTS,
            entitlements=await repository.entitlements_of(session, account_id),
            resources=[],
            pending_reductions=[],
            activations=[_record(entry) for entry in history.entries],
            waiting_for_plan=waiting_for_plan,
            revision=0,
        )
    snapshot = plan_snapshot(account, [_record(entry) for entry in history.entries], history.total, now)
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
    """The account's PlanSnapshot, built when the transaction commits: once per account changed in
    the transaction, caused by the last message that changed it and after every event it sums up;
    all of them from one query of the accounts' latest activations."""
    changed = _changed_views(uow)
    changed.pop(account.account_id, None)
    changed[account.account_id] = _ChangedView(envelope, account, current_trace_parent())
    uow.before_commit("PlanSnapshot", lambda: _publish_changed_views(uow))


@dataclass(frozen=True)
class _ChangedView:
    cause: EnvelopeHeader
    account: Account
    trace_parent: str | None


def _changed_views(uow: UnitOfWork) -> dict[str, _ChangedView]:
    """The accounts whose view this transaction changed, in the order of their last change."""
    changed: dict[str, _ChangedView] = uow.session.info.setdefault("changed_plan_views", {})
    return changed


async def _publish_changed_views(uow: UnitOfWork) -> None:
    changed = _changed_views(uow)
    latest = await activations.latest_activation_ids(uow.session, changed, SNAPSHOT_HISTORY)
    records = await _records(uow, (activation_id for ids, _ in latest.values() for activation_id in ids))
    await asyncio.sleep(0)
    for n, (account_id, view) in enumerate(changed.items(), start=1):
        if n % SNAPSHOTS_PER_STEP == 0:
            await asyncio.sleep(0)  # SQLite runs inline: let the loop breathe between bounded steps
        ids, total = latest.get(account_id, ((), 0))
        snapshot = plan_snapshot(view.account, [records[activation_id] for activation_id in ids], total, uow.now)
        await uow.emit(snapshot, account_id=account_id, cause=view.cause, trace_parent=view.trace_parent)
    changed.clear()


class ActivationRecords:
    """The ActivationRecords this process built lately, by activation id, at most ``size`` of them.

    An activation is never edited once written, so its record, built when the store activated the
    cart or the first time a snapshot read it, stays true: a snapshot reads only which activations it
    carries (ids and total, from the database every time, so what another replica wrote is seen) and
    builds only the records it has not seen. A record of a transaction that rolled back is never
    asked for (its id was never committed) and ages out."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._records: OrderedDict[str, ActivationRecord] = OrderedDict()

    def get(self, activation_id: str) -> ActivationRecord | None:
        record = self._records.get(activation_id)
        if record is not None:
            self._records.move_to_end(activation_id)
        return record

    def clear(self) -> None:
        self._records.clear()

    def keep(self, record: ActivationRecord) -> None:
        self._records[str(record.activation_id)] = record
        self._records.move_to_end(str(record.activation_id))
        while len(self._records) > self._size:
            self._records.popitem(last=False)


RECORDS = ActivationRecords(10_000)
"""The store's: the 20 latest activations of 500 accounts active at once (about 2.5 KB a record, 25 MB)."""


async def _records(uow: UnitOfWork, activation_ids: Iterable[str]) -> dict[str, ActivationRecord]:
    found: dict[str, ActivationRecord] = {}
    missing = []
    for activation_id in activation_ids:
        record = RECORDS.get(activation_id)
        if record is None:
            missing.append(activation_id)
        else:
            found[activation_id] = record
    for activation_id, entry in (await activations.activations_by_id(uow.session, missing)).items():
        found[activation_id] = _record(entry)
        RECORDS.keep(found[activation_id])
    return found


def remember_activation(record: ActivationRecord) -> None:
    """An activation the store is writing, for the snapshots that will carry it."""
    RECORDS.keep(record)


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


def _record(entry: HistoryEntry) -> ActivationRecord:
    """A history entry read back from the store's own tables, validated when it was written:
    built without validating it again (e-mail validation alone doubled the cost of a snapshot)."""
    who = entry.requested_by
    return ActivationRecord.model_construct(
        activation_id=UUID(entry.activation_id),
        request_id=entry.request_id,
        requested_by=Person.model_construct(user_id=who["user_id"], name=who["name"], email=who["email"]),
        payment_mode=PaymentMode(entry.payment_mode),
        effective_date=entry.effective_date,
        activated_at=entry.activated_at,
        lines=[
            PricedLine.model_construct(
                sku=line.sku, description=line.description, quantity=line.quantity, unit_price_uf=line.unit_price_uf
            )
            for line in entry.lines
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
