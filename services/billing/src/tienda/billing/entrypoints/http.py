"""Billing's read endpoints, and the operator's renewal endpoint (the worker adds health, metrics
and the documents). Each answers a read model of ``service_layer/read_models.py``.

GET  /accounts/{id}/charges         charges recorded per activation line, with their status
GET  /accounts/{id}/payments        payment history: what, amount, method, who, when
GET  /accounts/{id}/orders          online orders; /orders/pending: not paid and not carried
GET  /accounts/{id}/invoices        invoices with their lines (DTE 33 figures)
GET  /accounts/{id}/invoices/upcoming  the next renewal invoice as it would be issued now (writes nothing)
GET  /accounts/{id}/balance         balance due, credit, periods, card, billing data (the snapshot's view)
POST /admin/renewals                {"date": "2027-01-31"}: start (or join) renewal for that date, answer 202 at once;
                                    a token for every account ("*"); a date after today needs "early": true
GET  /admin/renewals/{date}         where that date's renewal run stands (accounts total, done, left; state)
"""

import datetime as dt
from collections.abc import Callable, Sequence

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field

from tienda.billing.service_layer import views
from tienda.billing.service_layer.read_models import (
    AccountBilling,
    Charges,
    Invoices,
    Orders,
    Payments,
    RenewalStatus,
)
from tienda.billing.service_layer.renewal import renew_due_accounts
from tienda.billing.service_layer.renewal_runs import RenewalProgress, RenewalRuns, ahead_of_today
from tienda.billing.service_layer.upcoming import NoUpcomingInvoice, UpcomingInvoice, upcoming_invoice
from tienda.contracts.business_day import business_date
from tienda.messaging.clock import Clock
from tienda.messaging.http import Problem, Refused, TokenRing, account_readers, operators
from tienda.messaging.worker import Runtime

COUNTING_SECONDS = 2.0  # the 202 waits this long at most for the run to count its accounts


class RenewalRun(BaseModel):
    date: dt.date = Field(description="The renewal date to run, YYYY-MM-DD.")
    early: bool = Field(
        default=False,
        description="Run a date after today (Santiago) now: every renewal invoice due by then is issued at once. "
        "Without it such a date is refused (422), so that a mistyped year does not invoice months ahead.",
    )


def routes(clock: Clock, runs: RenewalRuns) -> Callable[[Runtime, TokenRing], Sequence[APIRouter]]:
    def build(runtime: Runtime, tokens: TokenRing) -> Sequence[APIRouter]:
        accounts = account_readers(tokens)
        admin = operators(tokens, "running renewals spans accounts")

        @accounts.get("/accounts/{account_id}/charges")
        async def charges(account_id: str) -> Charges:
            """Charges per activation line: SKU, quantity, price, effective date, status, period, order, invoice."""
            async with runtime.readers() as session:
                return await views.charges_of(session, account_id)

        @accounts.get("/accounts/{account_id}/payments")
        async def payments(account_id: str) -> Payments:
            """Payment history, newest first: what was paid (reference), amount, method, who, when."""
            async with runtime.readers() as session:
                return await views.payments_of(session, account_id)

        @accounts.get("/accounts/{account_id}/orders")
        async def orders(account_id: str) -> Orders:
            """Online orders, newest first: date, status, net, IVA, total, paid, balance, invoice."""
            async with runtime.readers() as session:
                return await views.orders_of(session, account_id)

        @accounts.get("/accounts/{account_id}/orders/pending")
        async def pending_orders(account_id: str) -> Orders:
            """Pending orders (órdenes pendientes): online orders not paid yet and not carried into a renewal."""
            async with runtime.readers() as session:
                return await views.orders_of(session, account_id, pending_only=True)

        @accounts.get("/accounts/{account_id}/invoices")
        async def invoices(account_id: str) -> Invoices:
            """Invoices, newest first, with their lines and the DTE 33 figures: net, IVA, total, credit, paid, due."""
            async with runtime.readers() as session:
                return await views.invoices_of(session, account_id)

        @accounts.get(
            "/accounts/{account_id}/invoices/upcoming",
            responses={404: {"model": Problem, "description": "Billing has no plan for the account."}},
        )
        async def upcoming(account_id: str) -> UpcomingInvoice:
            """The next renewal invoice exactly as it would be issued with what billing knows now; writes nothing.

            Plan, add-ons, prorated charges at renewal, unpaid online orders carried in, reductions in force,
            the payments of carried orders and the credit it would apply, priced at the UF value of the renewal
            day, or the latest known (uf_estimate true) until that value is published."""
            async with runtime.readers() as session:
                try:
                    return await upcoming_invoice(session, account_id, business_date(clock()))
                except NoUpcomingInvoice as error:
                    raise Refused(404, "no renewal", str(error)) from error

        @accounts.get("/accounts/{account_id}/balance")
        async def balance(account_id: str) -> AccountBilling:
            """The account's billing view: balance due, credit, periods, orders, invoices, payments, card.

            The same view the compacted snapshot topic carries: plan and periods, pending orders, invoices,
            the latest payments, the card (brand and last four digits only) and the billing data in use."""
            async with runtime.readers() as session:
                return await views.account_billing(session, account_id)

        @admin.post("/admin/renewals", status_code=status.HTTP_202_ACCEPTED)
        async def renew(run: RenewalRun) -> RenewalStatus:
            """Start renewal for a date (operators, with a token for every account ("*")), or join the run
            of that date already going, and answer at once where it stands (202), with the accounts it has to
            renew counted (the answer waits up to 2 s for that count).

            The run issues each renewal invoice due by that date, once per account and period (running a
            date twice issues nothing more), in short transactions; follow it at ``GET /admin/renewals/{date}``
            or on the ``tienda_billing_renewal_accounts_left`` gauge."""

            if not run.early and (ahead := ahead_of_today(run.date, clock())):
                raise Refused(422, "renewal date ahead", f'{ahead}; check the date, or send "early": true to mean it')

            async def job(progress: RenewalProgress) -> RenewalProgress:
                return await renew_due_accounts(runtime.unit_of_work, run.date, clock(), progress)

            runs.start_or_join(run.date, job)
            await runs.counted(run.date, at_most=COUNTING_SECONDS)
            return _status(runs, run.date)

        @admin.get("/admin/renewals/{day}")
        async def renewal(day: dt.date) -> RenewalStatus:
            """Where the renewal run of a date stands in this worker: accounts total, done, failed and left,
            invoices issued, state (running, finished, failed). 404 if this worker has not run that date."""
            return _status(runs, day)

        return [accounts, admin]

    return build


def _status(runs: RenewalRuns, day: dt.date) -> RenewalStatus:
    progress = runs.progress(day)
    if progress is None:
        raise HTTPException(404, f"no renewal run for {day} in this worker: start one with POST /admin/renewals")
    return RenewalStatus(
        date=progress.date,
        state=progress.state.value,
        accounts_total=progress.total,
        accounts_done=progress.done,
        accounts_failed=progress.failed,
        accounts_left=progress.left,
        invoices=progress.invoices,
        started_at=progress.started_at,
        finished_at=progress.finished_at,
    )
