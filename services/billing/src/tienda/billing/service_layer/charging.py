"""Plans and charges: billing accounts from the plan events, charges from the store.

A charge that reaches billing before the account's plan waits (it has no period to be
prorated in yet) and is placed when the plan arrives.
"""

from dataclasses import replace
from datetime import datetime
from typing import Any

from tienda.billing.adapters import repository
from tienda.billing.domain import ids
from tienda.billing.domain.accounts import BillingAccount, Plan, change_plan, open_account
from tienda.billing.domain.charges import Charge, ChargeStatus, PaymentMode, allocate_reduction
from tienda.billing.domain.periods import Cycle
from tienda.billing.service_layer import alerts, documents, views
from tienda.contracts.business_day import business_date
from tienda.contracts.envelope import Envelope, EnvelopeHeader
from tienda.contracts.messages.activation import ChargeScheduled
from tienda.contracts.messages.operations import Severity
from tienda.contracts.messages.plans import AccountReinstated, AccountSuspended, PlanContracted
from tienda.contracts.messages.store import ReductionScheduled
from tienda.messaging.unit_of_work import UnitOfWork


async def contract_plan(envelope: Envelope[PlanContracted], uow: UnitOfWork) -> None:
    """Open the billing account (and place the charges that waited for it), or change its plan."""
    contract, account_id, now = envelope.payload, envelope.account_id, uow.now
    plan = Plan(
        contract.plan_code,
        contract.plan_name,
        Cycle(contract.billing_cycle.value),
        contract.renewal_anchor,
        contract.plan_price_uf,
    )
    account = await repository.account(uow.session, account_id)
    if account is None:
        account = open_account(account_id, plan, business_date(envelope.occurred_at))
        await repository.add_account(uow.session, account, now)
        waiting = await repository.waiting_charges(uow.session, account_id)
        for activation_id in dict.fromkeys(record.charge.activation_id for record in waiting):
            await place_activation(uow, account, activation_id, envelope, now)
    else:
        await repository.save_account(uow.session, change_plan(account, plan), now)
    await views.emit_snapshot(uow, account_id, envelope)


async def suspend_account(envelope: Envelope[AccountSuspended], uow: UnitOfWork) -> None:
    await _set_suspended(envelope, uow, suspended=True, reason=envelope.payload.reason)


async def reinstate_account(envelope: Envelope[AccountReinstated], uow: UnitOfWork) -> None:
    await _set_suspended(envelope, uow, suspended=False, reason=None)


async def _set_suspended(envelope: Envelope[Any], uow: UnitOfWork, *, suspended: bool, reason: str | None) -> None:
    account = await repository.account(uow.session, envelope.account_id)
    if account is None:
        return
    changed = replace(account, suspended=suspended, suspended_reason=reason)
    await repository.save_account(uow.session, changed, uow.now)
    await views.emit_snapshot(uow, envelope.account_id, envelope)


async def schedule_charge(envelope: Envelope[ChargeScheduled], uow: UnitOfWork) -> None:
    """Record each line of the activation once; prorate it in its period (online: on an order now;
    at renewal: for the next renewal invoice), or keep it waiting for the account's plan."""
    scheduled, account_id, now = envelope.payload, envelope.account_id, uow.now
    activation_id, mode = str(scheduled.activation_id), PaymentMode(scheduled.payment_mode.value)
    if await repository.activation_recorded(uow.session, activation_id):
        return
    new = repository.NewCharges(
        account_id,
        scheduled.request_id,
        scheduled.requested_by.model_dump(),
        str(envelope.event_id),
        [
            Charge(
                activation_id,
                position,
                line.sku,
                line.description,
                line.quantity,
                line.unit_price_uf,
                scheduled.effective_date,
                mode,
            )
            for position, line in enumerate(scheduled.lines, start=1)
        ],
    )
    await repository.add_charges(uow.session, new, now)
    account = await repository.account(uow.session, account_id)
    if account is not None:
        await place_activation(uow, account, activation_id, envelope, now)
    if account is None or mode is PaymentMode.ONLINE:
        # The view changed: charges wait for the plan, or an order opened. A charge at renewal
        # shows first on the renewal invoice, so the view (and its snapshot) stays as it was.
        await views.emit_snapshot(uow, account_id, envelope)


async def place_activation(
    uow: UnitOfWork, account: BillingAccount, activation_id: str, cause: EnvelopeHeader | None, now: datetime
) -> None:
    """Put each charge of the activation in the period of its effective date; open the order if online."""
    records = await repository.activation_charges(uow.session, activation_id)
    online = records[0].charge.payment_mode is PaymentMode.ONLINE
    for record in records:
        period = account.period_of(record.charge.effective_date)
        await repository.update_charge(
            uow.session,
            activation_id,
            record.charge.line,
            status=(ChargeStatus.ORDERED if online else ChargeStatus.PENDING_RENEWAL).value,
            period_start=period.start,
            period_end=period.end,
            months=account.months_per_period,
            order_id=ids.order_id(activation_id) if online else None,
        )
    if online:
        await documents.open_order(uow, account.account_id, activation_id, cause, now)


async def schedule_reduction(envelope: Envelope[ReductionScheduled], uow: UnitOfWork) -> None:
    """From the next renewal, charge fewer units: taken from the resources bought, newest first."""
    reduction, account_id, now = envelope.payload, envelope.account_id, uow.now
    reduction_id = str(reduction.reduction_id)
    if await repository.reduction_recorded(uow.session, reduction_id):
        return
    account = await repository.account(uow.session, account_id)
    effective_from = account.next_period.start if account else None
    already = await repository.reductions_by_charge(uow.session, account_id)
    rows: list[dict[str, Any]] = []
    uncovered: list[dict[str, Any]] = []
    for line in reduction.lines:
        records = await repository.charges_of_sku(uow.session, account_id, line.sku)
        available = [
            (key, record.charge.quantity - sum(r.quantity for r in already.get(key, [])))
            for record in records
            for key in [(record.charge.activation_id, record.charge.line)]
        ]
        allocations, missing = allocate_reduction(line.quantity, available)
        for allocation in allocations:
            rows.append(_reduction_row(reduction_id, len(rows) + 1, account_id, line.sku, allocation, effective_from))
        if missing:
            uncovered.append({"sku": line.sku, "quantity": missing})
            rows.append(_reduction_row(reduction_id, len(rows) + 1, account_id, line.sku, None, None, missing))
    await repository.add_reductions(uow.session, [{**row, "recorded_at": now} for row in rows])
    if uncovered or account is None:
        await _reduction_not_covered(uow, account_id, reduction_id, uncovered, envelope)
    await views.emit_snapshot(uow, account_id, envelope)


def _reduction_row(
    reduction_id: str,
    position: int,
    account_id: str,
    sku: str,
    allocation: Any,
    effective_from: Any,
    quantity: int | None = None,
) -> dict[str, Any]:
    return {
        "reduction_id": reduction_id,
        "position": position,
        "account_id": account_id,
        "sku": sku,
        "quantity": quantity if allocation is None else allocation.quantity,
        "activation_id": None if allocation is None else allocation.key[0],
        "activation_line": None if allocation is None else allocation.key[1],
        "effective_from": effective_from,
    }


async def _reduction_not_covered(
    uow: UnitOfWork, account_id: str, reduction_id: str, uncovered: list[dict[str, Any]], cause: EnvelopeHeader
) -> None:
    await alerts.raise_alert(
        uow,
        account_id,
        "reduction_not_covered",
        Severity.WARNING,
        f"Reduction {reduction_id} of account {account_id} removes units that billing never charged as add-ons "
        "(or the account has no plan in billing): the plan price is not lowered; review the account's plan.",
        {"reduction_id": reduction_id, "uncovered": uncovered},
        cause,
    )
