"""Billing's read side: the read models of the endpoints, built from the aggregates' records,
and the account's view published after every change on the compacted snapshot topic."""

import asyncio
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from tienda.billing.adapters import accounts, billing_data, cards, charges, invoices, orders, payments
from tienda.billing.adapters.billing_data import BillingDataVersion
from tienda.billing.adapters.charges import ChargeRecord
from tienda.billing.adapters.invoices import InvoiceRecord, StoredLine
from tienda.billing.adapters.orders import OrderRecord
from tienda.billing.adapters.payments import PaymentRecord
from tienda.billing.domain.accounts import BillingAccount
from tienda.billing.domain.billing_data import display_rut
from tienda.billing.domain.payments import balance_due
from tienda.billing.service_layer.read_models import (
    AccountBilling,
    AutopayView,
    CardOnFile,
    Charges,
    ChargeView,
    InvoiceLineView,
    Invoices,
    InvoiceView,
    InvoiceWithLines,
    Orders,
    OrderView,
    Payments,
    PaymentView,
)
from tienda.contracts.envelope import EnvelopeHeader
from tienda.contracts.messages import billing as wire
from tienda.contracts.topics import PLATFORM_ACCOUNT
from tienda.contracts.types import Person
from tienda.messaging.unit_of_work import UnitOfWork

LATEST_INVOICES = 12
LATEST_PAYMENTS = 20


def charge_view(record: ChargeRecord) -> ChargeView:
    charge = record.charge
    return ChargeView(
        activation_id=charge.activation_id,
        line=charge.line,
        sku=charge.sku,
        description=charge.description,
        quantity=charge.quantity,
        unit_price_uf=charge.unit_price_uf,
        effective_date=charge.effective_date,
        payment_mode=charge.payment_mode.value,
        status=record.status.value,
        period_start=record.period.start if record.period else None,
        period_end=record.period.end if record.period else None,
        order_id=record.order_id,
        invoice_id=record.invoice_id,
    )


def payment_view(record: PaymentRecord) -> PaymentView:
    match = record.match
    return PaymentView(
        payment_id=record.payment_id,
        reference=record.reference,
        amount_clp=record.amount_clp,
        method=record.method,
        paid_by=record.paid_by,
        paid_at=record.paid_at,
        matched=match is not None,
        document_id=match.document_id if match else None,
        document_kind=match.document_kind if match else None,
        applied_clp=match.applied_clp if match else None,
        credit_clp=match.credit_clp if match else None,
    )


def order_view(record: OrderRecord) -> OrderView:
    balance = record.balance
    return OrderView(
        order_id=record.order_id,
        payment_reference=record.order_id,
        activation_id=record.activation_id,
        order_date=record.order_date,
        status=wire.DocumentStatus(record.status.value),
        uf_date=record.uf_date,
        clp_per_uf=record.conversion.clp_per_uf if record.conversion else None,
        net_clp=record.net_clp,
        iva_clp=record.iva_clp,
        total_clp=record.total_clp,
        paid_clp=record.paid_clp,
        balance_due_clp=None if balance is None else max(balance.due, 0),
        carried_into=record.carried_into,
        invoice_id=record.invoice_id,
        ordered_by=Person.model_validate(record.ordered_by),
    )


def _invoice_fields(record: InvoiceRecord) -> dict[str, object]:
    autopay = record.autopay
    return {
        "invoice_id": record.invoice_id,
        "payment_reference": record.invoice_id,
        "kind": record.kind,
        "issue_date": record.issue_date,
        "period_start": record.period.start if record.period else None,
        "period_end": record.period.end if record.period else None,
        "status": wire.DocumentStatus(record.status.value),
        "uf_date": record.uf_date,
        "clp_per_uf": record.conversion.clp_per_uf if record.conversion else None,
        "net_clp": record.net_clp,
        "iva_clp": record.iva_clp,
        "total_clp": record.total_clp,
        "credit_applied_clp": record.credit_applied_clp,
        "paid_clp": record.paid_clp,
        "amount_due_clp": record.amount_due,
        "billing_data_version": record.billing_data_version,
        "autopay": AutopayView(status=autopay.status.value, attempts=autopay.attempts) if autopay.status else None,
    }


def invoice_view(record: InvoiceRecord) -> InvoiceView:
    return InvoiceView.model_validate(_invoice_fields(record))


def line_view(stored: StoredLine) -> InvoiceLineView:
    line = stored.line
    return InvoiceLineView(
        position=stored.position,
        kind=line.kind.value,
        description=line.description,
        sku=line.sku,
        quantity=line.quantity,
        unit_price_uf=line.unit_price_uf,
        months=line.months,
        period_start=line.period.start,
        period_end=line.period.end,
        days=line.days,
        uf_date=stored.conversion.uf_date if stored.conversion else None,
        clp_per_uf=stored.conversion.clp_per_uf if stored.conversion else None,
        amount_clp=stored.amount_clp,
        activation_id=line.activation_id,
        activation_line=line.activation_line,
        order_id=line.order_id,
    )


def card_on_file(card: cards.Card | None) -> CardOnFile | None:
    if card is None:
        return None
    return CardOnFile(
        brand=card.brand,
        last_four=card.last_four,
        subscribed_by=Person.model_validate(card.subscribed_by),
        subscribed_at=card.subscribed_at,
    )


def plan_view(account: BillingAccount | None) -> wire.BillingPlanView | None:
    if account is None:
        return None
    plan = account.plan
    return wire.BillingPlanView(
        code=plan.code,
        name=plan.name,
        billing_cycle=plan.cycle.value,
        renewal_anchor=plan.anchor,
        price_uf=plan.price_uf,
        suspended=account.suspended,
    )


def billing_data_view(version: BillingDataVersion | None) -> wire.BillingDataView | None:
    if version is None:
        return None
    data = version.data
    return wire.BillingDataView(
        version=version.version,
        legal_name=data.legal_name,
        rut=display_rut(data.rut),
        business_activity=data.business_activity,
        address=data.address,
        comuna=data.comuna,
        city=data.city,
        billing_email=data.billing_email,
    )


# --- what the endpoints answer ------------------------------------------------------------------


async def charges_of(session: AsyncSession, account_id: str) -> Charges:
    records = await charges.charges_of(session, account_id)
    return Charges(account_id=account_id, charges=[charge_view(record) for record in records])


async def payments_of(session: AsyncSession, account_id: str) -> Payments:
    records = await payments.payments_of(session, account_id)
    return Payments(account_id=account_id, payments=[payment_view(record) for record in records])


async def orders_of(session: AsyncSession, account_id: str, *, pending_only: bool = False) -> Orders:
    records = await orders.orders_of(session, account_id, pending_only=pending_only)
    return Orders(account_id=account_id, orders=[order_view(record) for record in records])


async def invoices_of(session: AsyncSession, account_id: str) -> Invoices:
    records = await invoices.invoices_of(session, account_id)
    lines = await invoices.lines_of(session, [record.invoice_id for record in records])
    return Invoices(
        account_id=account_id,
        invoices=[
            InvoiceWithLines.model_validate(
                {**_invoice_fields(record), "lines": [line_view(line) for line in lines.get(record.invoice_id, [])]}
            )
            for record in records
        ],
    )


async def account_billing(session: AsyncSession, account_id: str) -> AccountBilling:
    """Balance, pending orders, invoices, payments, card and billing data: the BillingSnapshot's view."""
    return (await account_billings(session, [account_id]))[account_id]


async def account_billings(session: AsyncSession, account_ids: Sequence[str]) -> dict[str, AccountBilling]:
    """``account_billing`` of each of these accounts, in a few queries for all of them."""
    found = await accounts.accounts_by_id(session, account_ids)
    pending = await orders.pending_orders_of(session, account_ids)
    shown = await invoices.unpaid_and_latest_of(session, account_ids, LATEST_INVOICES)
    await asyncio.sleep(0)  # with SQLite the statements run on the loop: its other work goes between them
    counted = await accounts.counts_of(session, account_ids)
    latest_payments = await payments.latest_payments_of(session, account_ids, LATEST_PAYMENTS)
    await asyncio.sleep(0)
    cards_on_file = await cards.cards_of(session, account_ids)
    data = await billing_data.current_billing_data_of(session, account_ids)
    views: dict[str, AccountBilling] = {}
    for account_id in account_ids:
        account = found.get(account_id)
        views[account_id] = AccountBilling(
            account_id=account_id,
            plan=plan_view(account),
            current_period_start=account.current_period.start if account else None,
            current_period_end=account.current_period.end if account else None,
            next_renewal=account.next_period.start if account else None,
            balance_due_clp=_due(pending[account_id], shown[account_id]),
            credit_clp=account.credit_clp if account else 0,
            pending_orders=[order_view(order) for order in pending[account_id]],
            invoices=[invoice_view(invoice) for invoice in shown[account_id]],
            invoices_total=counted[account_id].invoices,
            payments=[payment_view(p) for p in latest_payments[account_id]],
            payments_total=counted[account_id].payments,
            card=card_on_file(cards_on_file.get(account_id)),
            billing_data=billing_data_view(data.get(account_id)),
            charges_waiting_for_plan=counted[account_id].charges_waiting_for_plan,
        )
    return views


def _due(pending: Sequence[OrderRecord], shown: Sequence[InvoiceRecord]) -> int:
    """What the account owes, by the domain's rule; every unpaid invoice is among those shown."""
    return balance_due([(order.status, order.balance) for order in pending] + [(i.status, i.balance) for i in shown])


SNAPSHOTS_AT_ONCE = 50
"""Accounts whose views are read together at commit; the loop gets its turn between two such sets."""


EMITTED_AT_ONCE = 10
"""Snapshots built and encoded between two turns of the loop's other work."""


class _Snapshots:
    """The accounts whose view this transaction publishes when it commits (with the cause of the
    last change of each), all read together: one before-commit action for all of them."""

    KEY = "BillingSnapshots"

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.causes: dict[str, EnvelopeHeader | None] = {}

    @classmethod
    def of(cls, uow: UnitOfWork) -> "_Snapshots":
        pending = uow.before_commit_action(cls.KEY)
        return pending if isinstance(pending, _Snapshots) else cls(uow)

    async def __call__(self) -> None:
        uow, account_ids = self.uow, list(self.causes)
        for start in range(0, len(account_ids), SNAPSHOTS_AT_ONCE):
            if start:
                await asyncio.sleep(0)
            some = account_ids[start : start + SNAPSHOTS_AT_ONCE]
            views = await account_billings(uow.session, some)
            revisions = await accounts.next_revisions(uow.session, some)
            for n, account_id in enumerate(some, start=1):
                snapshot = views[account_id].snapshot(revisions[account_id], uow.now)
                await uow.emit(snapshot, account_id=account_id, cause=self.causes[account_id])
                if n % EMITTED_AT_ONCE == 0:
                    await asyncio.sleep(0)


async def emit_snapshot(uow: UnitOfWork, account_id: str, cause: EnvelopeHeader | None) -> None:
    """Publish the account's billing view with the next revision, as it is when this transaction
    commits: a batch that changes one account several times publishes its view once, and the
    views of all the accounts it changed are read together."""
    if account_id == PLATFORM_ACCOUNT:
        return
    pending = _Snapshots.of(uow)
    pending.causes.pop(account_id, None)
    pending.causes[account_id] = cause
    uow.before_commit(_Snapshots.KEY, pending)
