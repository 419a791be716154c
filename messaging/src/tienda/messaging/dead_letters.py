"""Dead letters: the raw message and, in headers, where it came from and why it failed."""

import asyncio
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from tienda.contracts.cards import contains_card_number
from tienda.contracts.topics import dead_letter_topic
from tienda.messaging.publisher import Publisher, send_and_wait
from tienda.messaging.records import Record

log = logging.getLogger(__name__)

HEADER_PREFIX = "x-tienda-"
_DIGIT_RUNS = re.compile(r"\d+(?:[ -]\d+)*")


def redact_card_numbers(value: bytes) -> tuple[bytes, bool]:
    """The bytes with every card number masked but its last four digits; whether any was.

    Dead letters keep a message as it came, except this: a card number never reaches Kafka's disk."""
    text = value.decode("latin-1")  # one character per byte: the other bytes stay exactly as they were

    def mask(match: re.Match[str]) -> str:
        run = match.group()
        if not contains_card_number(run):
            return run
        keep = len(run) - 4
        return re.sub(r"\d", "*", run[:keep]) + run[keep:]

    redacted = _DIGIT_RUNS.sub(mask, text)
    return redacted.encode("latin-1"), redacted != text


@dataclass(frozen=True)
class Failure:
    """Why a message was given up on."""

    error: BaseException
    attempts: int
    first_failure_at: datetime

    @property
    def error_class(self) -> str:
        return type(self.error).__name__


def dead_letter_headers(record: Record, failure: Failure, service: str) -> dict[str, str]:
    """Everything an operator needs to understand and replay the message."""
    fields = {
        "original-topic": record.topic,
        "original-partition": str(record.partition),
        "original-offset": str(record.offset),
        "original-key": (record.key or b"").decode("utf-8", "replace"),
        "error-class": failure.error_class,
        "error-message": str(failure.error)[:2000],
        "service": service,
        "attempts": str(failure.attempts),
        "first-failure-at": failure.first_failure_at.isoformat(),
        "dead-lettered-at": datetime.now(UTC).isoformat(),
    }
    return {HEADER_PREFIX + name: value for name, value in fields.items()}


class DeadLetters:
    """Puts a service's unprocessable messages on its dead-letter topic."""

    def __init__(self, service: str, publisher: Publisher, retry_delay: float = 1.0) -> None:
        self.service = service
        self.topic = dead_letter_topic(service).name
        self._publisher = publisher
        self._retry_delay = retry_delay

    async def send(self, record: Record, failure: Failure) -> None:
        """Publish until the broker has it: a message is never acknowledged without its dead letter."""
        headers = dead_letter_headers(record, failure, self.service)
        key = record.key.decode("utf-8", "replace") if record.key else None
        value, redacted = redact_card_numbers(record.value or b"")
        if redacted:
            headers[HEADER_PREFIX + "redacted"] = "card numbers masked; the original cannot be replayed as it was"
        while True:
            try:
                await send_and_wait(self._publisher, self.topic, key, value, headers)
                return
            except Exception as error:  # noqa: BLE001 - the broker is away; keep the message
                log.warning("dead letter for %s not published yet (%s); retrying", record.position, error)
                await asyncio.sleep(self._retry_delay)
