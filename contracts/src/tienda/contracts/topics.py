"""The topic registry: the one place topic names live.

Every topic is keyed by account id. The project creates each topic with the
partitions written here; brokers must not auto-create them.
"""

from dataclasses import dataclass, field

DAY_MS = 24 * 60 * 60 * 1000


@dataclass(frozen=True)
class Topic:
    """A Kafka topic as Tienda means it."""

    name: str
    description: str
    producer: str
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
    description="Carts the customer asked to activate (Activar servicios).",
    producer="erp-web",
    consumers=("store",),
    messages=("ActivationRequested",),
)

STORE_EVENTS = Topic(
    name="tienda.store.events",
    description="What the store decided: activations completed or rejected, charges for billing.",
    producer="store",
    consumers=("billing", "advisor"),
    messages=("ActivationCompleted", "ActivationRejected", "ChargeScheduled"),
    retention_days=30,
)

PAYMENTS_RECEIVED = Topic(
    name="tienda.payments.received",
    description="Payments the gateway received for an order or an invoice.",
    producer="payment-gateway",
    consumers=("billing",),
    messages=("PaymentReceived",),
    retention_days=30,
)


def dead_letter_topic(service: str) -> Topic:
    """Where a service puts the raw messages it can never process, with the reason in headers."""
    return Topic(
        name=f"tienda.deadletter.{service}",
        description=f"Messages {service} could not process; replayable to their original topic.",
        producer=service,
        consumers=("operators",),
        messages=(),
        partitions=1,
        retention_days=90,
    )


SERVICES = ("store", "billing", "advisor")

TOPICS: tuple[Topic, ...] = (
    ACTIVATION_REQUESTS,
    STORE_EVENTS,
    PAYMENTS_RECEIVED,
    *(dead_letter_topic(service) for service in SERVICES),
)


def topics_consumed_by(service: str) -> tuple[Topic, ...]:
    """The business topics a service subscribes to."""
    return tuple(topic for topic in TOPICS if service in topic.consumers)


def topic_for(message_type: str, producer: str) -> Topic:
    """The topic a producer publishes a message type on."""
    for topic in TOPICS:
        if message_type in topic.messages and topic.producer == producer:
            return topic
    raise KeyError(f"no topic in the registry carries {message_type} from {producer}")


def topic_named(name: str) -> Topic:
    """The registered topic of that name; KeyError names the known ones."""
    for topic in TOPICS:
        if topic.name == name:
            return topic
    raise KeyError(f"no topic {name!r} in the registry: {', '.join(t.name for t in TOPICS)}")
