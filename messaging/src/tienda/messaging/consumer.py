"""What a service consumes, declared in one place: its topics, the handler of each message
type, and where a message goes when it cannot be handled.

Each service's ``entrypoints/consumer.py`` builds one ``Consumer``; the worker subscribes it
(``tienda.messaging.kafka.subscribe``) and hands every record to the processor
(``tienda.messaging.processor``): decode, deduplicate on the event id, run the handler in one
transaction with its outbox, retry a transient failure (``RETRY_DELAYS``), and send a
permanent one to the service's dead-letter topic with the reason in headers."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tienda.contracts.topics import Topic, dead_letter_topic, topics_consumed_by
from tienda.messaging.processor import Handling


class ConsumerMismatch(ValueError):
    """A consumer declaration that disagrees with the topic registry."""


@dataclass(frozen=True)
class Consumer:
    """A service's subscription: the topics it reads and the handler of each message type."""

    service: str
    topics: Sequence[Topic]
    handlers: Mapping[str, Handling]

    def __post_init__(self) -> None:
        registered = {topic.name for topic in topics_consumed_by(self.service)}
        declared = {topic.name for topic in self.topics}
        if declared != registered:
            raise ConsumerMismatch(
                f"{self.service} declares topics {sorted(declared)} but contracts/topics.py says it consumes "
                f"{sorted(registered)}: make the two agree"
            )
        carried = {message for topic in self.topics for message in topic.messages}
        stray = sorted(set(self.handlers) - carried)
        if stray:
            raise ConsumerMismatch(
                f"{self.service} handles {', '.join(stray)}, which none of its topics carries: "
                "add the message to a topic it consumes in contracts/topics.py"
            )

    @property
    def group_id(self) -> str:
        return f"tienda-{self.service}"

    @property
    def topic_names(self) -> list[str]:
        return [topic.name for topic in self.topics]

    @property
    def dead_letters(self) -> Topic:
        """Where a message that can never be handled goes, unchanged, with the reason in headers."""
        return dead_letter_topic(self.service)
