"""Billing's message handlers: one per message type it consumes (``entrypoints/consumer.py`` says
which), each run in one transaction with the messages it emits. The rules they apply live in
``domain/``; the use cases they share in this package (``charges``, ``documents``, ``payments``,
``autopay``, ``uf_holds``, ``renewal``, ``views``).

Order across topics: Kafka orders messages only within one partition of one topic, so a
message may reach billing before another one it depends on. Every handler accepts its
message in either order and ends in the same state (README, "Ordering"):
- a charge or a reduction before the account's plan waits for it (``charges.place_waiting``);
- billing data and a card need no plan; a card subscribed after an invoice was issued puts
  that invoice on autopay as if it had been there (``autopay.charge_unpaid_invoices``);
- a payment quoting an order or invoice billing has not created yet waits for it, and is
  raised as unmatched only after a grace period (``payments``);
- a document whose UF value has not arrived is held until it does (``uf_holds``);
- a suspension changes only what the view shows: payments, renewals and autopay go on.
"""

from collections.abc import Sequence
from dataclasses import replace

from tienda.billing.adapters import accounts, billing_data, cards, charges, invoices, payments, uf_values
from tienda.billing.adapters.charges import ChargeRecord
from tienda.billing.adapters.payments import PaymentFailure, PaymentRecord
from tienda.billing.domain import ids
from tienda.billing.domain.accounts import BillingAccount, Plan, change_plan, open_account
from tienda.billing.domain.billing_data import BillingData, normalise, validate
from tienda.billing.domain.charges import Charge, ChargeStatus, PaymentMode
from tienda.billing.domain.documents import Conversion
from tienda.billing.service_layer import autopay, uf_holds, views
from tienda.billing.service_layer import charges as placing
from tienda.billing.service_layer import payments as paying
from tienda.contracts.business_day import business_date
from tienda.contracts.envelope import Envelope
from tienda.contracts.messages import billing as wire
from tienda.contracts.messages.activation import ChargeScheduled
from tienda.contracts.messages.payment import PaymentFailed, PaymentReceived
from tienda.contracts.messages.plans import AccountReinstated, AccountSuspended, PlanContracted
from tienda.contracts.messages.store import ReductionScheduled
from tienda.contracts.pricing.periods import Cycle
from tienda.messaging.unit_of_work import UnitOfWork

# --- tienda.accounts.plans ----------------------------------------------------------------------


async def contract_plan(envelope: Envelope[PlanContracted], uow: UnitOfWork) -> None:
    """Open the billing account (and place the charges and reductions that waited for it), or
    change its plan from the next renewal."""
    contract, account_id = envelope.payload, envelope.account_id
    cycle = Cycle(contract.billing_cycle.value)
    plan = Plan(contract.plan_code, contract.plan_name, cycle, contract.renewal_anchor, contract.plan_price_uf)
    account = await accounts.account(uow.session, account_id)
    if account is None:
        account = open_account(account_id, plan, business_date(envelope.occurred_at))
        await accounts.add_account(uow.session, account, uow.now)
        await placing.place_waiting(uow, account, envelope, uow.now)
    else:
        await accounts.save_account(uow.session, change_plan(account, plan), uow.now)
    await views.emit_snapshot(uow, account_id, envelope)


async def suspend_account(envelope: Envelope[AccountSuspended], uow: UnitOfWork) -> None:
    """Show the account as suspended; billing goes on (renewals, payments, autopay) as before."""
    account = await accounts.account(uow.session, envelope.account_id)
    if account is not None:
        suspended = replace(account, suspended=True, suspended_reason=envelope.payload.reason)
        await accounts.save_account(uow.session, suspended, uow.now)
        await views.emit_snapshot(uow, envelope.account_id, envelope)


async def reinstate_account(envelope: Envelope[AccountReinstated], uow: UnitOfWork) -> None:
    account = await accounts.account(uow.session, envelope.account_id)
    if account is not None:
        reinstated = replace(account, suspended=False, suspended_reason=None)
        await accounts.save_account(uow.session, reinstated, uow.now)
        await views.emit_snapshot(uow, envelope.account_id, envelope)


# --- tienda.store.events ------------------------------------------------------------------------


async def schedule_charges(envelopes: Sequence[Envelope[ChargeScheduled]], uow: UnitOfWork) -> None:
    """Record each line of each activation once, placed in its period (online: on an order now; at
    renewal: for the next renewal invoice), or waiting for the account's plan.

    A run of consecutive ChargeScheduled is handled together: the activations already recorded
    and the accounts come in one query each, and the charges of the whole run are written in one
    statement. No charge changes an account's plan or periods, so each is placed exactly as it
    would be alone."""
    recorded = await charges.activations_recorded(uow.session, {str(e.payload.activation_id) for e in envelopes})
    known = await accounts.accounts_by_id(uow.session, {e.account_id for e in envelopes})
    scheduled_now: list[tuple[Envelope[ChargeScheduled], BillingAccount | None, list[ChargeRecord]]] = []
    for envelope in envelopes:
        activation_id = str(envelope.payload.activation_id)
        if activation_id in recorded:
            continue
        recorded.add(activation_id)  # the same activation again later in the run: once
        account = known.get(envelope.account_id)
        scheduled_now.append((envelope, account, _charge_records(envelope, account)))
    new_charges = [(record, str(envelope.event_id)) for envelope, _, records in scheduled_now for record in records]
    await charges.add_charges(uow.session, new_charges, uow.now)
    for envelope, account, records in scheduled_now:
        if account is not None:
            await placing.open_orders(uow, account, records, envelope, uow.now)
        if account is None or envelope.payload.payment_mode.value == PaymentMode.ONLINE.value:
            # The view changed: charges wait for the plan, or an order opened. A charge at renewal
            # shows first on the renewal invoice, so the view (and its snapshot) stays as it was.
            await views.emit_snapshot(uow, envelope.account_id, envelope)


def _charge_records(envelope: Envelope[ChargeScheduled], account: BillingAccount | None) -> list[ChargeRecord]:
    """The activation's lines as charges: placed in the account's periods, or waiting for its plan."""
    scheduled, account_id = envelope.payload, envelope.account_id
    activation_id, mode = str(scheduled.activation_id), PaymentMode(scheduled.payment_mode.value)
    who = scheduled.requested_by.model_dump()
    records = [
        ChargeRecord(
            account_id,
            Charge(
                activation_id,
                position,
                line.sku,
                line.description,
                line.quantity,
                line.unit_price_uf,
                scheduled.effective_date,
                mode,
            ),
            ChargeStatus.WAITING_FOR_PLAN,
            scheduled.request_id,
            who,
        )
        for position, line in enumerate(scheduled.lines, start=1)
    ]
    return [placing.placed(record, account) for record in records] if account is not None else records


async def schedule_reduction(envelope: Envelope[ReductionScheduled], uow: UnitOfWork) -> None:
    """From the next renewal, charge fewer units: taken from the resources bought, newest first."""
    if await charges.reduction_recorded(uow.session, str(envelope.payload.reduction_id)):
        return
    account = await accounts.account(uow.session, envelope.account_id)
    await placing.reduce(uow, account, envelope, envelope.payload)
    await views.emit_snapshot(uow, envelope.account_id, envelope)


# --- tienda.payments.received -------------------------------------------------------------------


async def record_payment(envelope: Envelope[PaymentReceived], uow: UnitOfWork) -> None:
    """Apply the payment to the order or invoice it quotes, once per gateway payment id: the same id
    again applies nothing, and is raised to operations if its account, reference or amount differ."""
    payment = envelope.payload
    received = PaymentRecord(
        payment.payment_id,
        envelope.account_id,
        ids.as_written(envelope.account_id, payment.reference),
        payment.amount_clp,
        payment.method,
        payment.paid_by,
        payment.paid_at,
        str(envelope.event_id),
        uow.now,
        None,
    )
    recorded = await payments.payment(uow.session, payment.payment_id)
    if recorded is not None:
        if (recorded.account_id, recorded.reference, recorded.amount_clp) != (
            received.account_id,
            received.reference,
            received.amount_clp,
        ):
            await paying.repeated_differently(uow, recorded, received, envelope)
        return
    await paying.receive(uow, received, envelope)
    await views.emit_snapshot(uow, envelope.account_id, envelope)


async def record_payment_failure(envelope: Envelope[PaymentFailed], uow: UnitOfWork) -> None:
    """A charge the gateway could not make; for an autopay invoice, the scheduler retries it."""
    failure, account_id = envelope.payload, envelope.account_id
    if await payments.payment_failure_recorded(uow.session, failure.payment_id):
        return
    recorded = PaymentFailure(
        failure.payment_id, account_id, failure.reference, failure.amount_clp, failure.reason, failure.failed_at
    )
    await payments.add_payment_failure(uow.session, recorded, uow.now)
    invoice = await invoices.invoice(uow.session, account_id, ids.as_written(account_id, failure.reference))
    if invoice is not None:
        await autopay.record_failure(uow, invoice, failure.reason, failure.failed_at)


# --- tienda.billing.requests --------------------------------------------------------------------


async def submit_billing_data(envelope: Envelope[wire.BillingDataSubmitted], uow: UnitOfWork) -> None:
    """Accept the billing data as a new version, or reject it naming every problem (the current
    version stays in use); the same submission id twice is decided once."""
    submitted, account_id, now = envelope.payload, envelope.account_id, uow.now
    autopay.refuse_card_numbers(submitted)
    if await billing_data.submission_decided(uow.session, account_id, submitted.submission_id):
        return
    data = BillingData(
        legal_name=submitted.legal_name,
        rut=submitted.rut,
        business_activity=submitted.business_activity,
        address=submitted.address,
        comuna=submitted.comuna,
        city=submitted.city,
        billing_email=submitted.billing_email,
    )
    problems = validate(data)
    if problems:
        await billing_data.add_submission(uow.session, account_id, submitted.submission_id, None, problems, now)
        listed = [wire.BillingDataProblem(field=problem.field, message=problem.message) for problem in problems]
        rejected = wire.BillingDataRejected(
            submission_id=submitted.submission_id, submitted_by=submitted.submitted_by, problems=listed
        )
        await uow.emit(rejected, account_id=account_id, cause=envelope)
        uow.mark_rejected()
        return
    current = await billing_data.current_billing_data(uow.session, account_id)
    version = billing_data.BillingDataVersion((current.version if current else 0) + 1, normalise(data))
    who = submitted.submitted_by.model_dump()
    await billing_data.add_billing_data(uow.session, account_id, version, submitted.submission_id, who, now)
    await billing_data.add_submission(uow.session, account_id, submitted.submission_id, version.version, [], now)
    view = views.billing_data_view(version)
    assert view is not None
    accepted = wire.BillingDataAccepted(
        submission_id=submitted.submission_id, submitted_by=submitted.submitted_by, billing_data=view
    )
    await uow.emit(accepted, account_id=account_id, cause=envelope)
    await views.emit_snapshot(uow, account_id, envelope)


async def subscribe_card(envelope: Envelope[wire.CardSubscribed], uow: UnitOfWork) -> None:
    """Keep the card's token reference, brand and last four digits (a new card replaces the old);
    issued invoices that still owe something and that no card was asked to pay go on autopay."""
    card = envelope.payload
    autopay.refuse_card_numbers(card)
    who = card.subscribed_by.model_dump()
    subscription = cards.Card(card.token_reference, card.brand, card.last_four, who, envelope.occurred_at)
    await cards.save_card(uow.session, envelope.account_id, subscription)
    await autopay.charge_unpaid_invoices(uow, envelope.account_id, envelope, uow.now)
    await views.emit_snapshot(uow, envelope.account_id, envelope)


async def unsubscribe_card(envelope: Envelope[wire.CardUnsubscribed], uow: UnitOfWork) -> None:
    """Forget the card (only the named one, when a token reference is given)."""
    request = envelope.payload
    autopay.refuse_card_numbers(request)
    current = await cards.card(uow.session, envelope.account_id)
    if current is None or request.token_reference not in (None, current.token_reference):
        return
    await cards.remove_card(uow.session, envelope.account_id)
    await views.emit_snapshot(uow, envelope.account_id, envelope)


# --- tienda.indicators.uf -----------------------------------------------------------------------


async def record_uf_value(envelope: Envelope[wire.UfValuePublished], uow: UnitOfWork) -> None:
    """Record the day's UF value once and complete the documents held for it."""
    published = envelope.payload
    conversion = Conversion(published.uf_date, published.clp_per_uf)
    known = await uf_values.uf_value(uow.session, published.uf_date)
    if known is not None:
        if known.clp_per_uf != conversion.clp_per_uf:
            await uf_holds.conflicting_value(uow, known, conversion, envelope)
        return
    await uf_values.add_uf_value(uow.session, conversion, str(envelope.event_id), uow.now)
    for account_id in await uf_holds.complete_held(uow, conversion, envelope, uow.now):
        await views.emit_snapshot(uow, account_id, envelope)
