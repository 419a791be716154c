"""Carts and reductions that reach the store before their account's plan (the rules:
``domain/waiting.py``): set aside, handled in arrival order when the plan arrives, refused as
``unknown_account`` by the scheduler once they waited too long."""

import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from tienda.contracts.envelope import Envelope
from tienda.messaging.codec import decode, encode
from tienda.messaging.tracing import about
from tienda.messaging.unit_of_work import UnitOfWork
from tienda.store.adapters import repository, waiting
from tienda.store.domain.plan import Account
from tienda.store.domain.waiting import RequestKind, WaitingRequest, in_arrival_order, waits_for_plan
from tienda.store.service_layer import carts, reductions

log = logging.getLogger(__name__)

REFUSALS_PER_TRANSACTION = 200


async def accounts_or_wait(
    envelopes: Sequence[Envelope[Any]], uow: UnitOfWork, kind: RequestKind
) -> dict[str, Account]:
    """The requests' accounts, locked for this transaction, by id (read together); the requests of an
    account without a plan set aside until the plan arrives (once per request id), in their order."""
    accounts = await repository.load_accounts(uow.session, {envelope.account_id for envelope in envelopes}, lock=True)
    for envelope in envelopes:
        if envelope.account_id not in accounts:
            account = await account_or_wait(envelope, uow, kind)
            if account is not None:
                accounts[account.account_id] = account
    return accounts


async def account_or_wait(envelope: Envelope[Any], uow: UnitOfWork, kind: RequestKind) -> Account | None:
    """The request's account, locked for this transaction; or None, and the request set aside until
    the account's plan arrives (once per request id)."""
    account = await repository.load_account(uow.session, envelope.account_id, lock=True)
    if not waits_for_plan(account):
        return account
    await repository.serialize_new_account(uow.session, envelope.account_id)
    account = await repository.load_account(uow.session, envelope.account_id, lock=True)
    if not waits_for_plan(account):
        return account  # its plan was committed by another instance of the store meanwhile
    request_id: str = envelope.payload.request_id
    if not await waiting.is_waiting(uow.session, envelope.account_id, kind, request_id):
        await waiting.set_aside(
            uow.session, envelope.account_id, kind, request_id, str(envelope.event_id), encode(envelope), uow.now
        )
        with about(envelope):
            log.info("%s %s of account %s waits for the account's plan", kind.value, request_id, envelope.account_id)
    return None


async def release(uow: UnitOfWork, account: Account) -> int:
    """Handle what waited for this account's plan, in arrival order, as if it had come after the
    plan (called by the account's first PlanContracted); how many requests."""
    requests = in_arrival_order(await waiting.take_of_account(uow.session, account.account_id))
    for request in requests:
        await _handle(request, uow, account)
    if requests:
        log.info("%d request(s) that waited for the plan of %s handled", len(requests), account.account_id)
    return len(requests)


async def refuse_waited_too_long(uow: UnitOfWork, wait: timedelta) -> int:
    """Refuse as ``unknown_account`` the requests that waited ``wait`` (by ``uow.now``) and whose
    account still has no plan, in arrival order; how many (at most a few hundred per transaction)."""
    requests = await waiting.take_waited_since(uow.session, uow.now - wait, REFUSALS_PER_TRANSACTION)
    for request in in_arrival_order(requests):
        envelope = decode(request.message)
        if request.kind is RequestKind.CART:
            await carts.refuse_unknown_account(envelope, uow)
        else:
            await reductions.refuse_unknown_account(envelope, uow)
    return len(requests)


async def _handle(request: WaitingRequest, uow: UnitOfWork, account: Account) -> None:
    envelope = decode(request.message)
    if request.kind is RequestKind.CART:
        await carts.decide_carts([envelope], uow, {account.account_id: account}, counted=False)
    else:
        await reductions.decide_reduction_request(envelope, uow, account, counted=False)
