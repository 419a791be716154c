"""The topic registry: the one place topic names live.

Every topic is keyed by account id (messages about no account in particular, such as
the day's UF value, use the account id ``platform``). The project creates each topic
with the partitions written here; brokers must not auto-create them.
"""

from dataclasses import dataclass, field
from functools import cache

DAY_MS = 24 * 60 * 60 * 1000
PLATFORM_ACCOUNT = "platform"
SERVICES = ("store", "billing", "advisor")


@dataclass(frozen=True)
class Topic:
    """A Kafka topic as Tienda means it."""

    name: str
    description: str
    producers: tuple[str, ...]
    consumers: tuple[str, ...]
    messages: tuple[str, ...]
    partitions: int = 6
    retention_days: int | None = 14
    compacted: bool = False
    key: str = "account_id"
    config: dict[str, str] = field(default_factory=dict)

    def broker_config(self) -> dict[str, str]:
        """The topic-level configuration to create it with."""
        settings = {"cleanup.policy": "compact" if self.compacted else "delete"}
        if self.retention_days is not None:
            settings["retention.ms"] = str(self.retention_days * DAY_MS)
        return settings | self.config


ACTIVATION_REQUESTS = Topic(
    name="tienda.activations.requested",
    description="What the customer asked of the store: activate a cart (Activar servicios) or reduce the plan.",
    producers=("erp-web",),
    consumers=("store",),
    messages=("ActivationRequested", "ReductionRequested"),
)

ACCOUNT_PLANS = Topic(
    name="tienda.accounts.plans",
    description="The plan an account contracted or changed to, and its suspension or reinstatement.",
    producers=("erp-web",),
    consumers=("store", "billing"),
    messages=("PlanContracted", "AccountSuspended", "AccountReinstated"),
    retention_days=365,
)

STORE_EVENTS = Topic(
    name="tienda.store.events",
    description="What the store decided: activations completed or rejected, charges and reductions for billing.",
    producers=("store",),
    consumers=("billing", "advisor"),
    messages=(
        "ActivationCompleted",
        "ActivationRejected",
        "ChargeScheduled",
        "ReductionScheduled",
        "ReductionRejected",
    ),
    retention_days=30,
)

PLAN_SNAPSHOTS = Topic(
    name="tienda.store.plan-snapshots",
    description="The latest plan view of each account (features, counts, activation history); compacted.",
    producers=("store",),
    consumers=("erp-web",),
    messages=("PlanSnapshot",),
    retention_days=None,
    compacted=True,
)

PAYMENTS_RECEIVED = Topic(
    name="tienda.payments.received",
    description="What the payment gateway says: payments received for an order or an invoice, and failed charges.",
    producers=("payment-gateway",),
    consumers=("billing", "advisor"),
    messages=("PaymentReceived", "PaymentFailed"),
    retention_days=30,
)

BILLING_REQUESTS = Topic(
    name="tienda.billing.requests",
    description="What the customer changes in Cuenta y Facturación: billing data, card subscription.",
    producers=("erp-web",),
    consumers=("billing",),
    messages=("BillingDataSubmitted", "CardSubscribed", "CardUnsubscribed"),
    retention_days=30,
)

UF_VALUES = Topic(
    name="tienda.indicators.uf",
    description="The CLP value of one UF for each day, from the indicator feed (key: platform).",
    producers=("indicator-feed",),
    consumers=("billing", "store"),
    messages=("UfValuePublished",),
    partitions=1,
    retention_days=None,
    config={"retention.ms": "-1"},
)

BILLING_EVENTS = Topic(
    name="tienda.billing.events",
    description="Billing's facts: orders, invoices (DTE 33), payment requests and results, billing data decisions.",
    producers=("billing",),
    consumers=("advisor", "erp-web", "payment-gateway"),
    messages=(
        "OrderCreated",
        "InvoiceIssued",
        "PaymentRequested",
        "PaymentRecorded",
        "PaymentUnmatched",
        "AutopayFailed",
        "BillingDataAccepted",
        "BillingDataRejected",
    ),
    retention_days=30,
)

BILLING_SNAPSHOTS = Topic(
    name="tienda.billing.account-snapshots",
    description="The latest billing view of each account (balance, pending orders, invoices, payments); compacted.",
    producers=("billing",),
    consumers=("erp-web",),
    messages=("BillingSnapshot",),
    retention_days=None,
    compacted=True,
)

ADVISOR_REQUESTS = Topic(
    name="tienda.advisor.requests",
    description="Commercial requests from customers, status updates from executives, executive assignments.",
    producers=("erp-web", "executive-tools", "crm"),
    consumers=("advisor",),
    messages=("CommercialRequestSubmitted", "CommercialRequestUpdated", "ExecutiveAssigned"),
    retention_days=30,
)

ADVISOR_EVENTS = Topic(
    name="tienda.advisor.events",
    description="Requests assigned to an executive or redirected to support, and follow-ups raised.",
    producers=("advisor",),
    consumers=("executive-tools", "erp-web"),
    messages=("CommercialRequestAssigned", "CommercialRequestRedirected", "FollowUpRaised"),
    retention_days=30,
)

OPERATIONS_ALERTS = Topic(
    name="tienda.ops.alerts",
    description="What an operator must look at: unmatched payments, missing UF values, exhausted autopay, overdue"
    " requests, dead letters piling up.",
    producers=SERVICES,
    consumers=("operators",),
    messages=("OperationsAlert",),
    partitions=1,
    retention_days=30,
)

OPERATIONS_OUTCOMES = Topic(
    name="tienda.ops.outcomes",
    description="Every message each service handled: type, event id, account, result, latency.",
    producers=SERVICES,
    consumers=("operators",),
    messages=("MessageOutcome",),
    partitions=3,
    retention_days=7,
)

HEARTBEATS = Topic(
    name="tienda.ops.heartbeats",
    description="Each worker's heartbeat (key: platform): counters and outbox backlog, every few seconds.",
    producers=SERVICES,
    consumers=("operators",),
    messages=("WorkerHeartbeat",),
    partitions=1,
    retention_days=1,
)


def dead_letter_topic(service: str) -> Topic:
    """Where a service puts the raw messages it can never process, with the reason in headers."""
    return Topic(
        name=f"tienda.deadletter.{service}",
        description=f"Messages {service} could not process; replayable to their original topic.",
        producers=(service,),
        consumers=("operators",),
        messages=(),
        partitions=1,
        retention_days=90,
    )


TOPICS: tuple[Topic, ...] = (
    ACTIVATION_REQUESTS,
    ACCOUNT_PLANS,
    STORE_EVENTS,
    PLAN_SNAPSHOTS,
    PAYMENTS_RECEIVED,
    BILLING_REQUESTS,
    UF_VALUES,
    BILLING_EVENTS,
    BILLING_SNAPSHOTS,
    ADVISOR_REQUESTS,
    ADVISOR_EVENTS,
    OPERATIONS_ALERTS,
    OPERATIONS_OUTCOMES,
    HEARTBEATS,
    *(dead_letter_topic(service) for service in SERVICES),
)


def topics_consumed_by(service: str) -> tuple[Topic, ...]:
    """The topics a service subscribes to."""
    return tuple(topic for topic in TOPICS if service in topic.consumers)


def topics_produced_by(producer: str) -> tuple[Topic, ...]:
    """The topics a service or an upstream system publishes on."""
    return tuple(topic for topic in TOPICS if producer in topic.producers)


def principals() -> tuple[str, ...]:
    """Everyone the registry names as a producer or a consumer: the services first, then the
    upstream systems and operators in order of appearance. Each is a Kafka principal."""
    named = [*SERVICES]
    for topic in TOPICS:
        named.extend(name for name in (*topic.producers, *topic.consumers) if name not in named)
    return tuple(named)


@cache
def topic_for(message_type: str, producer: str) -> Topic:
    """The topic a producer publishes a message type on."""
    for topic in TOPICS:
        if message_type in topic.messages and producer in topic.producers:
            return topic
    raise KeyError(f"no topic in the registry carries {message_type} from {producer}")


def topic_named(name: str) -> Topic:
    """The registered topic of that name; KeyError names the known ones."""
    for topic in TOPICS:
        if topic.name == name:
            return topic
    raise KeyError(f"no topic {name!r} in the registry: {', '.join(t.name for t in TOPICS)}")
