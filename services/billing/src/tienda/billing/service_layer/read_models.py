"""What billing's read endpoints answer, as pydantic models (FastAPI's response models, so the
OpenAPI document says what each endpoint returns); the account's view also builds the
``BillingSnapshot`` published on the compacted snapshot topic.

Money as in the contracts: pesos are integers, UF amounts decimal strings with 4 decimals,
pesos per UF with 2. Moments are ISO 8601 with their UTC offset (``2027-03-02T15:30:00+00:00``).
Plan and billing data are the contract's own models, so the endpoint and the snapshot agree.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from tienda.contracts.messages.billing import (
    BillingDataView,
    BillingPlanView,
    BillingSnapshot,
    CardView,
    DocumentStatus,
    InvoiceKind,
    InvoiceSummary,
    OrderSummary,
    PaymentSummary,
)
from tienda.contracts.types import Person

Moment = Annotated[
    AwareDatetime,
    PlainSerializer(lambda moment: moment.isoformat(), return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
Uf = Annotated[Decimal, Field(description="UF, 4 decimals, as a decimal string.")]
ClpPerUf = Annotated[Decimal, Field(description="Pesos per UF on the conversion date, 2 decimals.")]


class ReadModel(BaseModel):
    model_config = ConfigDict(frozen=True)


class ChargeView(ReadModel):
    """One activation line as billing charges it."""

    activation_id: str
    line: int = Field(description="Position of the line in its activation, from 1.")
    sku: str
    description: str
    quantity: int
    unit_price_uf: Uf
    effective_date: date
    payment_mode: str = Field(description="online or at_renewal")
    status: str = Field(description="waiting_for_plan, pending_renewal, ordered or invoiced")
    period_start: date | None = Field(description="The period it is prorated in; null while it waits for the plan.")
    period_end: date | None
    order_id: str | None
    invoice_id: str | None


class Charges(ReadModel):
    account_id: str
    charges: list[ChargeView] = Field(description="In the order billing recorded them.")


class PaymentView(ReadModel):
    """A payment of the payment history: what was paid (reference), how much, how, by whom, when."""

    payment_id: str
    reference: str = Field(description="What the payer quoted: an order or invoice id.")
    amount_clp: int
    method: str
    paid_by: str
    paid_at: Moment
    matched: bool = Field(description="False while no document of the account has the reference.")
    document_id: str | None
    document_kind: str | None = Field(description="order or invoice")
    applied_clp: int | None
    credit_clp: int | None

    def summary(self) -> PaymentSummary:
        return PaymentSummary(
            payment_id=self.payment_id,
            reference=self.reference,
            document_id=self.document_id,
            amount_clp=self.amount_clp,
            method=self.method,
            paid_by=self.paid_by,
            paid_at=self.paid_at,
            matched=self.matched,
        )


class Payments(ReadModel):
    account_id: str
    payments: list[PaymentView] = Field(description="Newest first.")


class OrderView(ReadModel):
    """An online order: pay ``total_clp`` quoting ``payment_reference``."""

    order_id: str
    payment_reference: str
    activation_id: str
    order_date: date
    status: DocumentStatus
    uf_date: date
    clp_per_uf: ClpPerUf | None = Field(description="Null while the order waits for the UF value of its date.")
    net_clp: int | None
    iva_clp: int | None
    total_clp: int | None
    paid_clp: int
    balance_due_clp: int | None
    carried_into: str | None = Field(description="The renewal invoice that carried the unpaid order.")
    invoice_id: str | None = Field(description="The order's own invoice, once paid in full.")
    ordered_by: Person

    def summary(self) -> OrderSummary:
        return OrderSummary(
            order_id=self.order_id,
            order_date=self.order_date,
            status=self.status,
            total_clp=self.total_clp,
            paid_clp=self.paid_clp,
            balance_due_clp=self.balance_due_clp,
        )


class Orders(ReadModel):
    account_id: str
    orders: list[OrderView] = Field(description="Newest first.")


class AutopayView(ReadModel):
    status: str = Field(description="requested, failed, settled, exhausted or stopped")
    attempts: int


class InvoiceView(ReadModel):
    """An invoice (DTE 33): its figures and what is still due."""

    invoice_id: str
    payment_reference: str
    kind: str = Field(description="renewal or order")
    dte_type: int = 33
    issue_date: date
    period_start: date | None
    period_end: date | None
    status: DocumentStatus
    uf_date: date
    clp_per_uf: ClpPerUf | None = Field(description="Null while the invoice waits for the UF value of its date.")
    net_clp: int | None
    iva_clp: int | None
    total_clp: int | None
    credit_applied_clp: int
    paid_clp: int
    amount_due_clp: int | None
    billing_data_version: int | None
    autopay: AutopayView | None = Field(description="Null when no card was asked to pay the invoice.")

    def summary(self) -> InvoiceSummary:
        return InvoiceSummary(
            invoice_id=self.invoice_id,
            kind=InvoiceKind(self.kind),
            issue_date=self.issue_date,
            period_start=self.period_start,
            period_end=self.period_end,
            status=self.status,
            total_clp=self.total_clp,
            credit_applied_clp=self.credit_applied_clp,
            paid_clp=self.paid_clp,
            amount_due_clp=self.amount_due_clp,
        )


class InvoiceLineView(ReadModel):
    """A line: UF = unit price × months × quantity × days / period days; pesos at ``clp_per_uf``, rounded once."""

    position: int
    kind: str = Field(description="plan, addon, prorated or carried")
    description: str
    sku: str | None
    quantity: int
    unit_price_uf: Uf
    months: int
    period_start: date
    period_end: date
    days: int
    uf_date: date | None
    clp_per_uf: ClpPerUf | None
    amount_clp: int | None = Field(description="Null while the invoice waits for a UF value.")
    activation_id: str | None
    activation_line: int | None
    order_id: str | None


class InvoiceWithLines(InvoiceView):
    lines: list[InvoiceLineView]


class Invoices(ReadModel):
    account_id: str
    invoices: list[InvoiceWithLines] = Field(description="Newest first.")


class CardOnFile(ReadModel):
    """The subscribed card: brand and last four digits only."""

    brand: str
    last_four: str
    subscribed_by: Person
    subscribed_at: Moment

    def summary(self) -> CardView:
        return CardView(
            brand=self.brand,
            last_four=self.last_four,
            subscribed_by=self.subscribed_by,
            subscribed_at=self.subscribed_at,
        )


class AccountBilling(ReadModel):
    """The account's billing view ("Cuenta y Facturación"): what the snapshot topic carries, in full."""

    account_id: str
    plan: BillingPlanView | None = Field(description="Null until the account's plan reached billing.")
    current_period_start: date | None
    current_period_end: date | None
    next_renewal: date | None
    balance_due_clp: int = Field(ge=0, description="What pending orders and issued invoices still owe.")
    credit_clp: int = Field(ge=0, description="Over-payments waiting for the next invoice.")
    pending_orders: list[OrderView]
    invoices: list[InvoiceView] = Field(description="Unpaid invoices and the latest ones, newest first.")
    invoices_total: int
    payments: list[PaymentView] = Field(description="The latest payments, newest first.")
    payments_total: int
    card: CardOnFile | None
    billing_data: BillingDataView | None
    charges_waiting_for_plan: int

    def snapshot(self, revision: int, as_of: datetime) -> BillingSnapshot:
        """The view as the compacted snapshot topic carries it (the contract's summaries)."""
        return BillingSnapshot(
            revision=revision,
            as_of=as_of,
            plan=self.plan,
            current_period_start=self.current_period_start,
            current_period_end=self.current_period_end,
            next_renewal=self.next_renewal,
            balance_due_clp=self.balance_due_clp,
            credit_clp=self.credit_clp,
            pending_orders=[order.summary() for order in self.pending_orders],
            invoices=[invoice.summary() for invoice in self.invoices],
            invoices_total=self.invoices_total,
            payments=[payment.summary() for payment in self.payments],
            payments_total=self.payments_total,
            card=self.card.summary() if self.card else None,
            billing_data=self.billing_data,
            charges_waiting_for_plan=self.charges_waiting_for_plan,
        )


class RenewedInvoice(ReadModel):
    account_id: str
    invoice_id: str
    period_start: date
    period_end: date
    status: str = Field(description="pending, paid... or held when the UF value of the date is not known yet")


class Renewals(ReadModel):
    """What a renewal run issued: the invoices it issued or held (none when the date was already renewed)."""

    date: date
    invoices: list[RenewedInvoice]
