"""Charges in their period: each activation line is placed in the period of its effective date
(online: on an order at once; at renewal: for the next renewal invoice), or waits for the
account's plan; and reductions take units off the charges, newest first.

A charge or a reduction that reaches billing before the account's plan waits (it has no
period yet) and is placed when the plan arrives, so that both orders end the same."""

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from tienda.billing.adapters import charges
from tienda.billing.adapters.charges import ChargeRecord, ReductionRow
from tienda.billing.domain import ids
from tienda.billing.domain.accounts import BillingAccount
from tienda.billing.domain.charges import ChargeStatus, PaymentMode, allocate_reduction
from tienda.billing.service_layer import alerts, documents, payments
from tienda.contracts.envelope import EnvelopeHeader
from tienda.contracts.messages.operations import Severity
from tienda.contracts.messages.store import ReductionScheduled
from tienda.messaging.unit_of_work import UnitOfWork


def placed(record: ChargeRecord, account: BillingAccount) -> ChargeRecord:
    """The charge in the period of its effective date, on its order if it is paid online."""
    online = record.charge.payment_mode is PaymentMode.ONLINE
    return replace(
        record,
        status=ChargeStatus.ORDERED if online else ChargeStatus.PENDING_RENEWAL,
        period=account.period_of(record.charge.effective_date),
        months=account.months_per_period,
        order_id=ids.order_id(record.charge.activation_id) if online else None,
    )


async def open_orders(
    uow: UnitOfWork, account: BillingAccount, records: Sequence[ChargeRecord], cause: EnvelopeHeader, now: datetime
) -> None:
    """The order of each online activation among these placed charges, paid at once by the
    payments that quoted it before it existed."""
    by_activation: dict[str, list[ChargeRecord]] = {}
    for record in records:
        if record.order_id is not None:
            by_activation.setdefault(record.charge.activation_id, []).append(record)
    for lines in by_activation.values():
        order = await documents.open_order(uow, account.account_id, lines, cause, now)
        await payments.settle_waiting(uow, account.account_id, order.order_id, cause)


async def place_waiting(uow: UnitOfWork, account: BillingAccount, cause: EnvelopeHeader, now: datetime) -> None:
    """The account's plan arrived: the charges and reductions that waited for it take their place."""
    waiting = [placed(record, account) for record in await charges.waiting_charges(uow.session, account.account_id)]
    await charges.place_charges(uow.session, waiting)
    await open_orders(uow, account, waiting, cause, now)
    await charges.start_waiting_reductions(uow.session, account.account_id, account.next_period.start)


async def reduce(
    uow: UnitOfWork, account: BillingAccount | None, envelope: EnvelopeHeader, reduction: ReductionScheduled
) -> None:
    """Take the reduced units off the charges of their SKU, newest first, from the next renewal (or
    from the renewal after the plan arrives); units billing never charged are raised to operations."""
    account_id, reduction_id = envelope.account_id, str(reduction.reduction_id)
    effective_from = account.next_period.start if account else None
    taken = await charges.units_taken(uow.session, account_id)
    rows: list[ReductionRow] = []
    uncovered: list[dict[str, Any]] = []
    for line in reduction.lines:
        records = await charges.charges_of_sku(uow.session, account_id, line.sku)
        available = [(record.key, record.charge.quantity - taken.get(record.key, 0)) for record in records]
        allocations, missing = allocate_reduction(line.quantity, available)
        for allocation in allocations:
            row = ReductionRow(
                reduction_id, len(rows) + 1, account_id, line.sku, allocation.quantity, allocation.key, effective_from
            )
            rows.append(row)
        if missing:
            uncovered.append({"sku": line.sku, "quantity": missing})
            rows.append(ReductionRow(reduction_id, len(rows) + 1, account_id, line.sku, missing, None, None))
    await charges.add_reductions(uow.session, rows, uow.now)
    if uncovered:
        await alerts.raise_alert(
            uow,
            account_id,
            "reduction_not_covered",
            Severity.WARNING,
            f"Reduction {reduction_id} of account {account_id} removes units that billing never charged as add-ons: "
            "the plan price is not lowered; review the account's plan.",
            {"reduction_id": reduction_id, "uncovered": uncovered},
            envelope,
        )
