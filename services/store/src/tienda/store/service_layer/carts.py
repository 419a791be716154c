"""Carts (ActivationRequested) decided for accounts the store knows: each activated whole, or refused.

Carts come in runs: the consecutive carts of a consumed batch (``handlers.activate_resources``), or
one cart (the one-by-one path, a cart that waited for its plan). A run reads what it needs in a few
queries (which of its requests were activated before; the status history of an account whose
status changed after one of its carts occurred), decides each cart in memory with the domain, in
order, so a later cart of an account sees what the earlier ones granted, and writes each table once:
the activations, their lines, the accounts and their holdings. Its effects and messages are those
of handling the carts one by one. The accounts come locked from the caller.

Either way the same rules, the same effective date and the same prices (``domain/activation.py``).
"""

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
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
from tienda.contracts.messages.store import ActivationRecord
from tienda.messaging.unit_of_work import UnitOfWork
from tienda.store.adapters import activations, repository
from tienda.store.adapters.activations import NewActivation
from tienda.store.domain.activation import ActivatedItem, CartItem, Decision, decide, effective_moment, granted
from tienda.store.domain.plan import Account, Standing, StatusChange, standing_at
from tienda.store.domain.refusals import Refusal
from tienda.store.service_layer.views import entitlement_list, publish_plan_view, rejected_lines, remember_activation

STEP = 5
"""Carts decided between two yields to the event loop (a run of a hundred holds it for a few ms at a time)."""


@dataclass
class _Run:
    """What a run of carts read at its start, and what it will write at its end."""

    accounts: Mapping[str, Account]
    activated: set[tuple[str, str]]
    """(account id, request id) activated before, or earlier in the run."""
    histories: Mapping[str, list[StatusChange]]
    """The status history of each account whose standing changed after one of the run's carts occurred."""
    added: list[NewActivation] = field(default_factory=list)
    changed: dict[str, Account] = field(default_factory=dict)


async def decide_carts(
    carts: Sequence[Envelope[ActivationRequested]],
    uow: UnitOfWork,
    accounts: Mapping[str, Account],
    *,
    counted: bool = True,
) -> None:
    """Activate each cart whole, or refuse it naming every bad line, in order; the same request id
    activates once. ``accounts``: the carts' accounts, locked. ``counted``: a refusal counts as the
    outcome of the message being handled (not so for a cart handled by its account's PlanContracted)."""
    run = _Run(
        accounts,
        await activations.activated_requests(uow.session, ((c.account_id, c.payload.request_id) for c in carts)),
        await repository.status_histories(uow.session, _standing_changed_after_a_cart(carts, accounts)),
    )
    for n, cart in enumerate(carts, start=1):
        if n % STEP == 0:
            await asyncio.sleep(0)  # SQLite runs inline: let the loop breathe between bounded steps
        await _decide(cart, uow, run, accounts[cart.account_id], counted=counted)
    await asyncio.sleep(0)
    await activations.add_activations(uow.session, run.added)
    await asyncio.sleep(0)
    await repository.save_accounts(uow.session, list(run.changed.values()), uow.now)


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
        uow.mark_rejected(envelope)


def _standing_changed_after_a_cart(
    carts: Iterable[Envelope[ActivationRequested]], accounts: Mapping[str, Account]
) -> set[str]:
    return {cart.account_id for cart in carts if accounts[cart.account_id].standing_changed_after(cart.occurred_at)}


async def _decide(
    envelope: Envelope[ActivationRequested], uow: UnitOfWork, run: _Run, account: Account, *, counted: bool
) -> None:
    request = envelope.payload
    if (account.account_id, request.request_id) in run.activated:
        return
    effective = business_date(effective_moment(envelope.occurred_at, account))
    catalog = await repository.catalog_on(uow.session, effective)
    standing = _standing_at(run, account, envelope.occurred_at)
    decision = decide([CartItem(line.sku, line.quantity) for line in request.lines], catalog, account, standing)
    if decision.accepted:
        await _activate(envelope, uow, run, decision, account, effective)
    else:
        await refuse_cart(envelope, uow, decision.refusals, counted=counted)


def _standing_at(run: _Run, account: Account, moment: datetime) -> Standing:
    """The account's standing when the customer activated the cart, as far as the store has heard."""
    if not account.standing_changed_after(moment):
        return account.standing
    return standing_at(run.histories[account.account_id], moment)


async def _activate(
    envelope: Envelope[ActivationRequested],
    uow: UnitOfWork,
    run: _Run,
    decision: Decision,
    account: Account,
    effective: date,
) -> None:
    request, now = envelope.payload, uow.now
    activation_id = uuid4()
    account.grant(granted(decision.activated))
    account.revision += 1
    run.activated.add((account.account_id, request.request_id))
    run.changed[account.account_id] = account
    run.added.append(
        NewActivation(
            str(activation_id),
            account.account_id,
            request.request_id,
            request.payment_mode.value,
            effective,
            request.requested_by.model_dump(),
            str(envelope.event_id),
            now,
            decision.activated,
        )
    )
    lines = [_priced(item) for item in decision.activated]
    common = {
        "activation_id": activation_id,
        "request_id": request.request_id,
        "requested_by": request.requested_by,
        "payment_mode": request.payment_mode,
        "effective_date": effective,
        "lines": lines,
    }
    remember_activation(
        ActivationRecord.model_construct(
            activation_id=activation_id,
            request_id=request.request_id,
            requested_by=request.requested_by,
            payment_mode=request.payment_mode,
            effective_date=effective,
            activated_at=now,
            lines=lines,
        )
    )
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
