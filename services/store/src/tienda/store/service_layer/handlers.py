"""The store's use cases, one handler per message type it consumes (which type goes to which
handler: ``entrypoints/consumer.py``; the rules they apply: ``domain/``).

Carts are handled in runs (``Batched``): the consecutive carts of a consumed batch at once, in
one transaction with their effects equal to handling them one by one. Every handler that changes
an account's plan view publishes a PlanSnapshot after its other messages, in the same
transaction, built at commit: a batch that changes one account several times publishes its last
view once. Handlers of one account serialize on its ``account_plans`` row (``SELECT ... FOR
UPDATE`` on PostgreSQL, a run's accounts together in account order; SQLite writers already
queue) before they look for an earlier request with the same id, so two instances during a
rebalance neither interleave on one account nor both activate one request; an account the
store does not know yet serializes on its id (``repository.serialize_new_account``).

Carts and reductions travel on one topic, plans and status changes on another, so they may
reach the store in either order: what the store does about each pair is in README, "Ordering".
"""

from collections.abc import Sequence
from typing import Any

from tienda.contracts.envelope import Envelope, EnvelopeHeader
from tienda.contracts.messages.activation import ActivationRequested
from tienda.contracts.messages.billing import UfValuePublished
from tienda.contracts.messages.plans import AccountReinstated, AccountSuspended, PlanContracted
from tienda.contracts.messages.store import ReductionRequested
from tienda.messaging.errors import UnresolvableReference
from tienda.messaging.processor import Batched
from tienda.messaging.unit_of_work import UnitOfWork
from tienda.store.adapters import repository, uf_values
from tienda.store.domain.plan import Account, Plan, StatusChange, baseline
from tienda.store.domain.waiting import RequestKind
from tienda.store.service_layer import waiting
from tienda.store.service_layer.carts import decide_carts
from tienda.store.service_layer.reductions import decide_reduction_request
from tienda.store.service_layer.views import publish_plan_view


async def activate_carts(envelopes: Sequence[Envelope[ActivationRequested]], uow: UnitOfWork) -> None:
    """Activate each whole cart at once, or nothing of it; the same request id activates once. A run
    of carts locks its accounts together, then decides them in order (``carts.py``). The cart of an
    account whose plan has not reached the store waits for it."""
    accounts = await waiting.accounts_or_wait(envelopes, uow, RequestKind.CART)
    await decide_carts([envelope for envelope in envelopes if envelope.account_id in accounts], uow, accounts)


class BatchedHandler(Batched):
    """A batched handler that can also be called with one message, as a one-message handler is."""

    async def __call__(self, envelope: Envelope[Any], uow: UnitOfWork) -> None:
        await self.handle([envelope], uow)


activate_resources = BatchedHandler(activate_carts)
"""The cart handler: runs of consecutive carts of a consumed batch at once, one cart on the one-by-one path."""


async def schedule_reduction(envelope: Envelope[ReductionRequested], uow: UnitOfWork) -> None:
    """Accept a reduction for the next renewal, or refuse it whole; the same request id schedules once.
    The reduction of an account whose plan has not reached the store waits for it."""
    account = await waiting.account_or_wait(envelope, uow, RequestKind.REDUCTION)
    if account is not None:
        await decide_reduction_request(envelope, uow, account)


async def contract_plan(envelope: Envelope[PlanContracted], uow: UnitOfWork) -> None:
    """A new baseline for the account. Reductions requested before it take effect now (a renewal
    or a plan change restates the plan); what was bought in the store stays. The account's first
    plan also handles the carts and reductions that waited for it, in the order they arrived."""
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
        await repository.serialize_new_account(uow.session, envelope.account_id)
        account = await repository.new_account(uow.session, envelope.account_id, plan)
        account.contract(plan, included)
        account.opened(envelope.occurred_at, str(envelope.event_id))
        account.revision = 1
        await repository.save_account(uow.session, account, now, new=True)
        publish_plan_view(envelope, uow, account)
        await waiting.release(uow, account)
        return
    applied = account.renew(envelope.occurred_at)
    account.contract(plan, included)
    account.restated(envelope.occurred_at, str(envelope.event_id))
    account.revision += 1
    await repository.mark_applied(uow.session, applied, now, str(envelope.event_id))
    await repository.save_account(uow.session, account, now, new=False)
    publish_plan_view(envelope, uow, account)


async def suspend_account(envelope: Envelope[AccountSuspended], uow: UnitOfWork) -> None:
    account = await _known_account(envelope, uow)
    if account.suspend(envelope.payload.reason, envelope.occurred_at):
        await _changed_status(envelope, uow, account)


async def reinstate_account(envelope: Envelope[AccountReinstated], uow: UnitOfWork) -> None:
    account = await _known_account(envelope, uow)
    if account.reinstate(envelope.occurred_at):
        await _changed_status(envelope, uow, account)


async def _known_account(envelope: EnvelopeHeader, uow: UnitOfWork) -> Account:
    """Suspension and reinstatement travel on the plans topic after the plan, in order: an
    account without a plan there never contracted one."""
    account = await repository.load_account(uow.session, envelope.account_id, lock=True)
    if account is None:
        raise UnresolvableReference(f"{envelope.type} for account {envelope.account_id}, which never contracted a plan")
    return account


async def _changed_status(envelope: EnvelopeHeader, uow: UnitOfWork, account: Account) -> None:
    account.revision += 1
    change = StatusChange(envelope.occurred_at, account.standing)
    await repository.add_status_change(uow.session, account.account_id, change, str(envelope.event_id))
    await repository.save_account(uow.session, account, uow.now, new=False)
    publish_plan_view(envelope, uow, account)


async def record_uf_value(envelope: Envelope[UfValuePublished], uow: UnitOfWork) -> None:
    """Keep the day's UF value for quotes; the first value of a day stays (billing, which converts
    documents with it, raises a different one to operations)."""
    published = envelope.payload
    if await uf_values.uf_value(uow.session, published.uf_date) is None:
        await uf_values.add_uf_value(
            uow.session, published.uf_date, published.clp_per_uf, str(envelope.event_id), uow.now
        )
