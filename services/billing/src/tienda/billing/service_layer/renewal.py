"""Renewal: on the first day of a period, each account's renewal invoice, exactly once.

The worker's scheduler runs it every few minutes for the day in Chile; an operator runs
it for a given date with ``python -m tienda.billing.renewal run --date 2027-01-31`` or
``POST /admin/renewals``. All three call ``renew_due_accounts``, which walks the due
accounts in chunks and renews them in short transactions of several accounts each (see
``TRANSACTION_SECONDS``), giving the event loop back in between, and keeps counts, not the
invoices: a caller that wants them gets each transaction's as it commits (``on_renewed``); the invoice of an account
and period is unique in the database, and each transaction re-reads its accounts, so two
runs that race issue it once, and a run stopped anywhere resumes where it stopped. The
renewal invoice is dated on the renewal date (the first day of the period) and converts
at that date's UF value; without it, the invoice is held until the value arrives.
"""

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from tienda.billing.adapters import accounts, charges, invoices, orders, uf_values
from tienda.billing.adapters.charges import ChargeRecord
from tienda.billing.adapters.invoices import IssuedInvoice, NewInvoice
from tienda.billing.domain import ids
from tienda.billing.domain.accounts import BillingAccount
from tienda.billing.domain.charges import PlacedCharge
from tienda.billing.domain.documents import document_totals, price_all
from tienda.billing.domain.payments import issue
from tienda.billing.domain.renewal import CarriedOrder, RenewalInvoice, renewal_invoice
from tienda.billing.service_layer import autopay, documents, payments, views
from tienda.billing.service_layer.renewal_reads import RenewalReads, read_for_renewal
from tienda.billing.service_layer.renewal_runs import RenewalProgress
from tienda.billing.service_layer.renewal_writes import RenewalWrites
from tienda.contracts.pricing.periods import Period
from tienda.messaging.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Renewed:
    account_id: str
    invoice_id: str
    period_start: date
    period_end: date
    status: str


OnRenewed = Callable[[Sequence[Renewed]], object]
"""Told the invoices of each renewal transaction once it has committed."""


def _forget(_: Sequence[Renewed]) -> None:
    """The invoices of a run nobody asked for one by one: they are counted in its progress."""


CHUNK_ACCOUNTS = 200
"""Accounts read per step of a run (one query)."""
READ_AT_ONCE = 25
"""Accounts a renewal transaction locks and reads together (ten queries), then renews one by one,
most of them in memory (``issue_at_once``); it reads the next 25 while its time budget lasts."""
TRANSACTION_SECONDS = 0.2
"""A renewal transaction commits once it has taken this long (checked after each set of
``READ_AT_ONCE`` accounts) or its chunk is done; a budget of 0 renews one account per transaction.
Between two accounts, and between two statements of the reads, the writes and the snapshots at
commit, it gives the event loop back: with SQLite the statements run on the loop's thread, so the
loop is held for one account's work or one statement at a time, not for the transaction. The
budget bounds how long the consumer's handlers wait for the write lock behind renewal (carts keep
a sub-second latency) and how much a failure redoes."""


async def renew_due_accounts(
    uow_factory: Callable[[], UnitOfWork],
    on: date,
    now: datetime,
    progress: RenewalProgress | None = None,
    *,
    chunk: int = CHUNK_ACCOUNTS,
    budget: float = TRANSACTION_SECONDS,
    on_renewed: OnRenewed | None = None,
) -> RenewalProgress:
    """Issue the renewal invoices due by ``on`` of every account, in short transactions of several
    accounts each, giving the event loop back between them. Resumable: a renewed account is no
    longer due, so a run stopped anywhere (kill -9 included) and started again renews the rest.

    Returns the run's counts (``progress``: accounts done and failed, invoices issued). The run
    keeps no record per account (a run of 100,000 accounts would keep 100,000, and every full
    garbage collection would walk them, holding the loop): each transaction's invoices go to
    ``on_renewed`` once it has committed, and are dropped after it."""
    progress = progress or RenewalProgress(on)
    async with uow_factory() as uow:
        progress.total = await accounts.count_due(uow.session, on)
    progress.counted.set()
    after = ""
    while True:
        async with uow_factory() as uow:
            due = await accounts.accounts_due(uow.session, on, after=after, limit=chunk)
        if not due:
            return progress
        after = due[-1]
        await _renew_chunk(uow_factory, due, on, now, budget, progress, on_renewed or _forget)
        progress.chunks += 1


async def _renew_chunk(
    uow_factory: Callable[[], UnitOfWork],
    due: list[str],
    on: date,
    now: datetime,
    budget: float,
    progress: RenewalProgress,
    on_renewed: OnRenewed,
) -> None:
    """Renew ``due`` in transactions of about ``budget`` seconds each; a transaction that fails is
    redone account by account, so that one bad account holds none of the others back."""
    pending, at_once = due, READ_AT_ONCE if budget > 0 else 1
    while pending:
        attempted: list[str] = []
        try:
            async with uow_factory() as uow:
                started = time.perf_counter()
                issued: list[Renewed] = []
                while len(attempted) < len(pending) and not (attempted and time.perf_counter() - started >= budget):
                    some = pending[len(attempted) : len(attempted) + at_once]
                    reads = await read_for_renewal(uow.session, some)
                    for account_id in some:
                        await asyncio.sleep(0)  # heartbeats, fetches and reads go between two accounts
                        attempted.append(account_id)
                        issued += await renew_account(uow, account_id, on, now, reads.get(account_id))
                await uow.commit()
        except Exception:  # noqa: BLE001 - redone one by one below, where each failure is logged
            log.warning("renewal of %d account(s) for %s failed together; renewing them one by one", len(attempted), on)
            await _renew_one_by_one(uow_factory, attempted, on, now, progress, on_renewed)
        else:
            progress.done += len(attempted)
            progress.invoices += len(issued)
            on_renewed(issued)
        pending = pending[len(attempted) :]
        await asyncio.sleep(0)  # the loop's other work (heartbeats, fetches, commits, carts) goes first


async def _renew_one_by_one(
    uow_factory: Callable[[], UnitOfWork],
    due: list[str],
    on: date,
    now: datetime,
    progress: RenewalProgress,
    on_renewed: OnRenewed,
) -> None:
    for account_id in due:
        try:
            async with uow_factory() as uow:
                issued = await renew_account(uow, account_id, on, now)
                await uow.commit()
        except Exception:
            log.exception("renewal of %s for %s failed; the next run retries it", account_id, on)
            progress.failed += 1
            continue
        progress.done += 1
        progress.invoices += len(issued)
        on_renewed(issued)
        await asyncio.sleep(0)


async def renew_account(
    uow: UnitOfWork, account_id: str, on: date, now: datetime, reads: RenewalReads | None = None
) -> list[Renewed]:
    """Every renewal of the account due by ``on``, oldest period first. ``reads``: the account and
    its renewal inputs, read (locked) in this transaction with other accounts'; else it reads them."""
    if reads is None:
        reads = (await read_for_renewal(uow.session, [account_id])).get(account_id)
        if reads is None:
            return []
    account = reads.account
    due = account.due_periods(on)
    if len(due) == 1 and reads.issues_at_once(due[0]):
        renewed = [await issue_at_once(uow, replace(account, current_period=due[0]), due[0], now, reads)]
    else:
        renewed = await _renew_in_turn(uow, account, due, now, reads)
    if renewed:
        await views.emit_snapshot(uow, account_id, None)
    return renewed


async def _renew_in_turn(
    uow: UnitOfWork, account: BillingAccount, due: list[Period], now: datetime, reads: RenewalReads | None
) -> list[Renewed]:
    """Each period's invoice written, then issued when its UF value is known: the next period reads
    what the previous one wrote."""
    renewed = []
    for period in due:
        account = replace(account, current_period=period)
        await accounts.save_account(uow.session, account, now)
        renewed.append(await issue_renewal_invoice(uow, account, period, now, reads))
        reads = None  # the next period's inputs are read after this one's writes
    return renewed


def renewal_of(account: BillingAccount, period: Period, reads: RenewalReads) -> tuple[RenewalInvoice, NewInvoice]:
    """The invoice of ``period`` as the domain computes it from the reads, and as stored held."""

    def placed(record: ChargeRecord) -> PlacedCharge:
        return record.placed(reads.reductions.get(record.key, ()))

    carried = [
        CarriedOrder(
            unpaid.order_id,
            tuple(r.placed(conversion=unpaid.conversion) for r in reads.order_charges[unpaid.order_id]),
            unpaid.paid_clp,
        )
        for unpaid in reads.unpaid_before(period.start)
    ]
    invoice = renewal_invoice(
        account,
        period,
        pending=[placed(r) for r in reads.pending(period.start)],
        recurring=[placed(r) for r in reads.recurring(period.start)],
        issued_renewals=reads.issued_renewals,
        unpaid_orders=carried,
    )
    new = NewInvoice(
        ids.renewal_invoice_id(account.account_id, period.start),
        account.account_id,
        documents.RENEWAL,
        period.start,
        period,
        None,
        period.start,
        invoice.paid_by_carried_orders,
        invoice.lines,
    )
    return invoice, new


async def issue_renewal_invoice(
    uow: UnitOfWork, account: BillingAccount, period: Period, now: datetime, reads: RenewalReads | None = None
) -> Renewed:
    """The invoice of ``period``: plan, add-ons, prorated charges, unpaid orders carried in."""
    session = uow.session
    reads = reads or await _read_one(session, account)
    invoice, new = renewal_of(account, period, reads)
    await asyncio.sleep(0)  # the loop's other work between this account's reads and its writes
    await invoices.add_invoice(session, new, now)
    prorated_keys = [(c.charge.activation_id, c.charge.line) for c in invoice.prorated]
    await charges.invoice_charges(session, prorated_keys, new.invoice_id)
    carried_ids = [order.order_id for order in invoice.carried]
    await orders.carry_orders(session, carried_ids, new.invoice_id)
    await charges.invoice_order_charges(session, carried_ids, new.invoice_id)
    recurring_keys = [(c.charge.activation_id, c.charge.line) for c in invoice.recurring]
    await charges.mark_recurring(session, recurring_keys, period.start)
    await asyncio.sleep(0)  # and before it is priced and issued
    return await _complete_if_uf_known(uow, new, now)


async def issue_at_once(
    uow: UnitOfWork, account: BillingAccount, period: Period, now: datetime, reads: RenewalReads
) -> Renewed:
    """The invoice of ``period`` issued in memory from the reads (``reads.issues_at_once(period)``):
    the figures, events and rows of ``issue_renewal_invoice`` followed by ``documents.complete_invoice``
    (priced at the renewal day's UF value, the carried orders' payments and the account's credit
    applied, the card asked to pay what is due), its rows written with the transaction's others at
    commit (``renewal_writes``). ``account`` is in ``period`` already."""
    conversion = reads.conversion
    assert conversion is not None
    invoice, new = renewal_of(account, period, reads)
    priced = price_all([invoices.as_stored(line) for line in new.lines], conversion)
    figures = document_totals(priced)
    settled = issue(figures.total, new.paid_clp, account.credit_clp)
    balance = settled.balance
    held = invoices.held_record(new, now)
    await documents.announce_invoice(uow, held, priced, figures, balance, reads.billing_data, None)
    request, state = None, held.autopay
    if balance.due > 0 and reads.card is not None:
        request = autopay.payment_request(held, balance.due, 1, reads.card)
        await uow.emit(autopay.payment_requested(request, reads.card, now), account_id=account.account_id)
        state = state.requested(1)
    data_version = reads.billing_data.version if reads.billing_data else None
    issued = IssuedInvoice(new, priced, conversion, figures, balance, data_version, state)
    RenewalWrites.of(uow, now).add(replace(account, credit_clp=settled.credit_left), issued, invoice, request)
    return Renewed(account.account_id, new.invoice_id, period.start, period.end, balance.status.value)


async def _read_one(session: AsyncSession, account: BillingAccount) -> RenewalReads:
    """The renewal inputs of an account already read (and locked) in this transaction."""
    reads = (await read_for_renewal(session, [account.account_id]))[account.account_id]
    return replace(reads, account=account)


async def _complete_if_uf_known(uow: UnitOfWork, new: NewInvoice, now: datetime) -> Renewed:
    """Issue the invoice if the UF value of its date is known (else it stays held), then apply the
    payments that quoted it before it existed."""
    account_id, invoice_id, period = new.account_id, new.invoice_id, new.period
    assert period is not None
    conversion = await uf_values.uf_value(uow.session, period.start)
    record = invoices.held_record(new, now)
    status = record.status
    if conversion is not None:
        status = await documents.complete_invoice(uow, record, conversion, None, now)
    else:
        log.warning("renewal invoice %s of %s held: no UF value for %s yet", invoice_id, account_id, period.start)
    if await payments.settle_waiting(uow, account_id, invoice_id, None):
        found = await invoices.invoice(uow.session, account_id, invoice_id)
        status = found.status if found else status
    return Renewed(account_id, invoice_id, period.start, period.end, status.value)
