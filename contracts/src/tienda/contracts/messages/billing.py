"""Billing's messages: requests from Cuenta y Facturación, UF values, and billing's own facts.

Money: UF amounts carry 4 decimals (``UfAmount``), pesos are integers (``ClpAmount``), the
value of one UF in pesos carries 2 decimals (``ClpPerUf``). Every CLP amount on an order or
an invoice follows one rule: each line converted to pesos and rounded half up once; the
net is the sum of the lines; IVA is 19 % of the net rounded half up; total = net + IVA.

Card data: only the gateway's token reference, the brand and the last four digits. A
message on the billing requests topic that carries a card number anywhere (13 to 19
digits, spaces or dashes allowed between them, passing the Luhn check) is refused when it
is read, and the refusal never repeats the number.
"""

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, ClassVar
from uuid import UUID

from pydantic import AwareDatetime, Field, StringConstraints, model_validator

from tienda.contracts.cards import contains_card_number
from tienda.contracts.envelope import EventPayload
from tienda.contracts.types import ClpAmount, Person, UfAmount, WireModel

DocumentId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
SubmissionId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
ClpPerUf = Annotated[
    Decimal,
    Field(gt=0, max_digits=12, decimal_places=2, description="Pesos per UF on that day, 2 decimals."),
]
FreeText = Annotated[str, StringConstraints(max_length=500)]

# ---------------------------------------------------------------------------------------------
# Card numbers are never accepted (detection: tienda.contracts.cards)


CARD_NUMBER_REFUSAL = (
    "a card number was found in the message; Tienda accepts only the gateway's token reference, "
    "the card brand and its last four digits"
)


class _RefusesCardNumbers(EventPayload):
    """A request whose payload, as sent, must not contain a card number in any field, known or not."""

    @model_validator(mode="before")
    @classmethod
    def _no_card_number(cls, data: Any) -> Any:
        if contains_card_number(data):
            raise ValueError(CARD_NUMBER_REFUSAL)
        return data


# ---------------------------------------------------------------------------------------------
# Requests from Cuenta y Facturación (tienda.billing.requests)


class BillingDataSubmitted(_RefusesCardNumbers):
    """The customer saved "Mis datos de pago": what the invoices will show. Billing checks it
    (required fields, the RUT's check digit, the e-mail) and accepts it as a new version or
    rejects it naming each problem. The same submission id twice is decided once."""

    message_type: ClassVar[str] = "BillingDataSubmitted"

    submission_id: SubmissionId
    submitted_by: Person
    legal_name: FreeText = Field(description="Razón social, as registered with the SII.")
    rut: Annotated[str, StringConstraints(max_length=40)] = Field(description="e.g. 76.086.428-5")
    business_activity: FreeText = Field(description="Giro.")
    address: FreeText
    comuna: FreeText
    city: FreeText
    billing_email: FreeText = Field(description="Where the invoices are sent.")


class CardSubscribed(_RefusesCardNumbers):
    """The customer subscribed a credit card for automatic payment of invoices."""

    message_type: ClassVar[str] = "CardSubscribed"

    token_reference: Annotated[str, StringConstraints(min_length=1, max_length=128)] = Field(
        description="The gateway's token for the card; never the card number."
    )
    brand: Annotated[str, StringConstraints(min_length=1, max_length=32)] = Field(description="e.g. visa, mastercard")
    last_four: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$")]
    subscribed_by: Person


class CardUnsubscribed(_RefusesCardNumbers):
    """The customer removed the card: invoices are no longer charged automatically."""

    message_type: ClassVar[str] = "CardUnsubscribed"

    unsubscribed_by: Person
    token_reference: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = Field(
        default=None, description="When given, only this card is removed."
    )


# ---------------------------------------------------------------------------------------------
# The indicator feed (tienda.indicators.uf, account id "platform")


class UfValuePublished(EventPayload):
    """The value of one UF in pesos for one day. A value, once published for a day, does not change."""

    message_type: ClassVar[str] = "UfValuePublished"

    uf_date: date
    clp_per_uf: ClpPerUf


# ---------------------------------------------------------------------------------------------
# Billing's facts (tienda.billing.events)


class LineKind(StrEnum):
    """What a line of an order or invoice charges."""

    PLAN = "plan"
    """The plan for the period."""
    ADDON = "addon"
    """A resource bought in an earlier period, for the whole period (the recurring amount)."""
    PRORATED = "prorated"
    """A resource from its activation day to the end of its period."""
    CARRIED = "carried"
    """A line of an online order left unpaid, carried into the renewal invoice."""


class DocumentLine(WireModel):
    """One line of an order or invoice: UF = unit price × months × quantity × days / period days;
    pesos = that amount at ``clp_per_uf``, rounded half up once."""

    kind: LineKind
    description: str
    sku: str | None = None
    quantity: int = Field(ge=1)
    unit_price_uf: UfAmount = Field(description="Catalog price per unit per month; the plan's price per period.")
    months: int = Field(ge=1, description="Months of price in one period: 1 monthly, 12 annual; 1 for the plan.")
    period_start: date
    period_end: date
    days: int = Field(ge=1, description="Days charged, from the effective date to the period end, both included.")
    period_days: int = Field(ge=1)
    amount_uf: UfAmount = Field(description="The line in UF, shown to 4 decimals (pesos come from the exact amount).")
    uf_date: date = Field(description="The date whose UF value converted this line.")
    clp_per_uf: ClpPerUf
    amount_clp: ClpAmount = Field(ge=0)
    activation_id: UUID | None = None
    activation_line: int | None = Field(default=None, description="Position of the line in its activation, from 1.")
    order_id: DocumentId | None = Field(default=None, description="The order a carried or paid line came from.")


class OrderCreated(EventPayload):
    """An online purchase waits for payment ("orden pendiente"): pay ``total_clp`` quoting ``payment_reference``."""

    message_type: ClassVar[str] = "OrderCreated"

    order_id: DocumentId
    payment_reference: DocumentId
    activation_id: UUID
    request_id: str
    ordered_by: Person
    order_date: date
    lines: list[DocumentLine] = Field(min_length=1)
    net_clp: ClpAmount = Field(ge=0)
    iva_clp: ClpAmount = Field(ge=0)
    total_clp: ClpAmount = Field(ge=0)


class InvoiceKind(StrEnum):
    RENEWAL = "renewal"
    """Issued on the renewal date for the new period."""
    ORDER = "order"
    """Issued when an online order is paid in full."""


class DocumentStatus(StrEnum):
    HELD = "held"
    """Waiting for the UF value of its date."""
    PENDING = "pending"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    CARRIED = "carried"
    """An order left unpaid at renewal and carried into the renewal invoice."""


class BillingDataView(WireModel):
    """An accepted version of "Mis datos de pago", as printed on invoices."""

    version: int = Field(ge=1)
    legal_name: str
    rut: str = Field(description="As printed, e.g. 76.086.428-5.")
    business_activity: str
    address: str
    comuna: str
    city: str
    billing_email: str


class InvoiceIssued(EventPayload):
    """An invoice with what an electronic invoice (DTE type 33) needs: lines, net, IVA, total
    and the receiver's billing data as accepted when it was issued."""

    message_type: ClassVar[str] = "InvoiceIssued"

    invoice_id: DocumentId
    payment_reference: DocumentId
    kind: InvoiceKind
    dte_type: int = 33
    issue_date: date
    period_start: date | None = None
    period_end: date | None = None
    lines: list[DocumentLine] = Field(min_length=1)
    net_clp: ClpAmount = Field(ge=0)
    iva_clp: ClpAmount = Field(ge=0)
    total_clp: ClpAmount = Field(ge=0)
    credit_applied_clp: ClpAmount = Field(ge=0, description="Credit from earlier over-payments used on this invoice.")
    paid_clp: ClpAmount = Field(ge=0, description="Payments already applied (of a carried order, or the order's own).")
    amount_due_clp: ClpAmount = Field(ge=0)
    status: DocumentStatus
    carried_orders: list[DocumentId] = Field(default_factory=list)
    billing_data: BillingDataView | None = Field(description="None when the account never gave its billing data.")


class PaymentRequested(EventPayload):
    """Billing asks the gateway to charge the account's subscribed card for an invoice."""

    message_type: ClassVar[str] = "PaymentRequested"

    request_id: DocumentId = Field(description="One per attempt: the invoice id and the attempt number.")
    invoice_id: DocumentId
    payment_reference: DocumentId
    amount_clp: ClpAmount = Field(gt=0)
    token_reference: str
    brand: str
    last_four: str
    attempt: int = Field(ge=1, description="1 on issue, then one more per retry.")
    requested_at: AwareDatetime


class DocumentKind(StrEnum):
    ORDER = "order"
    INVOICE = "invoice"


class PaymentRecorded(EventPayload):
    """A gateway payment matched an order or invoice of the account and was applied to it."""

    message_type: ClassVar[str] = "PaymentRecorded"

    payment_id: str
    reference: str = Field(description="What the payer quoted.")
    document_id: DocumentId = Field(description="Where it was applied: the reference, or the invoice that carried it.")
    document_kind: DocumentKind
    amount_clp: ClpAmount = Field(gt=0)
    method: str
    paid_by: str
    paid_at: AwareDatetime
    applied_clp: ClpAmount = Field(ge=0, description="The part that paid the document.")
    credit_clp: ClpAmount = Field(ge=0, description="The part over what was due: credit for the next invoice.")
    balance_due_clp: ClpAmount | None = Field(
        ge=0, description="What the document still owes; None while its amounts wait for a UF value."
    )
    document_status: DocumentStatus


class PaymentUnmatched(EventPayload):
    """A gateway payment whose reference is no order or invoice of the account: kept for reconciliation."""

    message_type: ClassVar[str] = "PaymentUnmatched"

    payment_id: str
    reference: str
    amount_clp: ClpAmount = Field(gt=0)
    method: str
    paid_by: str
    paid_at: AwareDatetime


class AutopayFailed(EventPayload):
    """Automatic payment of an invoice failed after its last retry: the invoice stays pending."""

    message_type: ClassVar[str] = "AutopayFailed"

    invoice_id: str = Field(min_length=1, max_length=64)
    amount_clp: ClpAmount = Field(gt=0)
    attempts: int = Field(ge=1)
    last_reason: str = Field(description="The gateway's reason for the last failure.")
    gave_up_at: AwareDatetime


class BillingDataAccepted(EventPayload):
    """The billing data is valid: this version is used on every later document."""

    message_type: ClassVar[str] = "BillingDataAccepted"

    submission_id: SubmissionId
    submitted_by: Person
    billing_data: BillingDataView


class BillingDataProblem(WireModel):
    field: str = Field(description="The field, e.g. rut, billing_email.")
    message: str = Field(description="What is wrong and what to enter, for the customer.")


class BillingDataRejected(EventPayload):
    """The billing data was not accepted; every problem is named. The previous version stays in use."""

    message_type: ClassVar[str] = "BillingDataRejected"

    submission_id: SubmissionId
    submitted_by: Person
    problems: list[BillingDataProblem] = Field(min_length=1)


# ---------------------------------------------------------------------------------------------
# The billing view of each account (tienda.billing.account-snapshots, compacted)


class BillingPlanView(WireModel):
    code: str
    name: str
    billing_cycle: str = Field(description="monthly or annual")
    renewal_anchor: date
    price_uf: UfAmount
    suspended: bool = False


class OrderSummary(WireModel):
    order_id: DocumentId
    order_date: date
    status: DocumentStatus
    total_clp: ClpAmount | None = Field(description="None while the order waits for the UF value of its date.")
    paid_clp: ClpAmount
    balance_due_clp: ClpAmount | None


class InvoiceSummary(WireModel):
    invoice_id: DocumentId
    kind: InvoiceKind
    issue_date: date
    period_start: date | None = None
    period_end: date | None = None
    status: DocumentStatus
    total_clp: ClpAmount | None
    credit_applied_clp: ClpAmount
    paid_clp: ClpAmount
    amount_due_clp: ClpAmount | None


class PaymentSummary(WireModel):
    payment_id: str
    reference: str
    document_id: str | None = Field(description="None when the payment matched nothing.")
    amount_clp: ClpAmount
    method: str
    paid_by: str
    paid_at: AwareDatetime
    matched: bool


class CardView(WireModel):
    brand: str
    last_four: str
    subscribed_by: Person
    subscribed_at: AwareDatetime


class BillingSnapshot(EventPayload):
    """The account's billing view after a change, keyed by account on a compacted topic:
    the latest one wins. ``revision`` grows by one with every change; a reader keeps the highest."""

    message_type: ClassVar[str] = "BillingSnapshot"

    revision: int = Field(ge=1)
    as_of: AwareDatetime
    plan: BillingPlanView | None = Field(description="None until the account's plan reached billing.")
    current_period_start: date | None = None
    current_period_end: date | None = None
    next_renewal: date | None = None
    balance_due_clp: ClpAmount = Field(ge=0, description="What pending orders and issued invoices still owe.")
    credit_clp: ClpAmount = Field(ge=0, description="Over-payments waiting for the next invoice.")
    pending_orders: list[OrderSummary]
    invoices: list[InvoiceSummary] = Field(description="Unpaid invoices and the latest ones, newest first.")
    invoices_total: int = Field(ge=0)
    payments: list[PaymentSummary] = Field(description="The latest payments, newest first.")
    payments_total: int = Field(ge=0)
    card: CardView | None = None
    billing_data: BillingDataView | None = None
    charges_waiting_for_plan: int = Field(ge=0, default=0)


MESSAGES: tuple[type[EventPayload], ...] = (
    BillingDataSubmitted,
    CardSubscribed,
    CardUnsubscribed,
    UfValuePublished,
    OrderCreated,
    InvoiceIssued,
    PaymentRequested,
    PaymentRecorded,
    PaymentUnmatched,
    AutopayFailed,
    BillingDataAccepted,
    BillingDataRejected,
    BillingSnapshot,
)
