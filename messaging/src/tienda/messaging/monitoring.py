"""What operations see of a worker: the outcomes topic, heartbeats, alerts when dead
letters pile up, and the Prometheus metrics behind ``GET /metrics``."""

import asyncio
import logging
import socket
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from tienda.contracts.envelope import EventPayload, new_envelope
from tienda.contracts.messages.operations import MessageOutcome, OperationsAlert, Severity, WorkerHeartbeat
from tienda.contracts.topics import PLATFORM_ACCOUNT, topic_for
from tienda.contracts.types import ACCOUNT_ID
from tienda.messaging.codec import encode
from tienda.messaging.counters import Counters
from tienda.messaging.loop_lag import LAG_BUCKETS
from tienda.messaging.periodic import every
from tienda.messaging.processor import Observation
from tienda.messaging.publisher import Publisher

log = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Monitoring:
    """One worker's outcomes, heartbeats, alerts and metrics."""

    def __init__(
        self,
        service: str,
        publisher: Publisher,
        counters: Counters,
        dead_letter_alert_at: int = 10,
        dead_letter_window: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.service = service
        self.instance = f"{socket.gethostname()}-{id(self):x}"
        self.started_at = datetime.now(UTC)
        self.counters = counters
        self.backlog = 0
        self.relay_leader: Callable[[], bool] = lambda: True
        """Whether this instance relays its outbox now (see ``relay_lease``)."""
        self.lag: dict[tuple[str, int], int] = {}
        self._publisher = publisher
        self._dead_letter_alert_at = dead_letter_alert_at
        self._dead_letter_window = dead_letter_window
        self._clock = clock
        self._dead_letter_history: deque[tuple[float, int]] = deque([(clock(), 0)])
        self._last_alert_at = -dead_letter_window
        self.registry = CollectorRegistry()
        self.registry.register(_CoreCollector(self))
        self._latency = Histogram(
            "tienda_handler_seconds",
            "Time from a message's arrival to its commit or dead letter.",
            ["service", "type", "result"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._loop_lag = Histogram(
            "tienda_event_loop_lag_seconds",
            "How much later than asked the event loop woke the watchdog: the time it was held by other work.",
            ["service"],
            buckets=LAG_BUCKETS,
            registry=self.registry,
        ).labels(service)
        self._latencies: dict[tuple[str, str], Any] = {}

    def add_gauge(
        self,
        name: str,
        documentation: str,
        labels: Sequence[str],
        read: Callable[[], Iterable[tuple[Sequence[str], float]]],
    ) -> None:
        """A service's own gauge, ``read()`` at each scrape as (label values, value) pairs; the
        ``service`` label comes first."""
        self.registry.register(_ReadGauge(self.service, name, documentation, labels, read))

    def observe_loop_lag(self, seconds: float) -> None:
        self._loop_lag.observe(seconds)

    async def observe(self, observation: Observation) -> None:
        """Count it, time it, and put its outcome on the outcomes topic (without waiting for the broker)."""
        record, envelope = observation.record, observation.envelope
        handled_type = envelope.type if envelope else "undecodable"
        self._latency_of(handled_type, observation.outcome.value).observe(observation.seconds)
        outcome = MessageOutcome(
            service=self.service,
            handled_type=envelope.type if envelope else None,
            handled_event_id=str(envelope.event_id) if envelope else None,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            result=observation.outcome,
            latency_ms=round(observation.seconds * 1000, 3),
            reason=observation.reason,
        )
        account = envelope.account_id if envelope else _account_of_key(record.key)
        await self._publish(outcome, account, wait=False)

    def _latency_of(self, handled_type: str, result: str) -> Any:
        """The latency histogram of one type and result (looked up once: ``labels`` costs a lock and a hash)."""
        child = self._latencies.get((handled_type, result))
        if child is None:
            child = self._latencies[(handled_type, result)] = self._latency.labels(self.service, handled_type, result)
        return child

    def record_position(self, topic: str, partition: int, offset: int, highwater: int | None) -> None:
        """Consumer lag of a partition after handling ``offset``."""
        if highwater is not None:
            self.lag[(topic, partition)] = max(highwater - offset - 1, 0)

    async def heartbeat(self, backlog: Callable[[], Awaitable[int]]) -> None:
        """Publish a heartbeat; alert when dead letters piled up since the last one."""
        try:
            self.backlog = await backlog()
        except Exception as error:  # noqa: BLE001 - the database may be away; the heartbeat still goes
            log.warning("outbox backlog unknown: %s", error)
        beat = WorkerHeartbeat(
            service=self.service,
            instance=self.instance,
            started_at=self.started_at,
            counters=self.counters.snapshot(),
            outbox_backlog=self.backlog,
            relay_leader=self.relay_leader(),
        )
        await self._publish(beat, PLATFORM_ACCOUNT, wait=True)
        await self._alert_on_dead_letters()

    def _dead_letters_in_window(self) -> int:
        """Dead letters since the oldest heartbeat still inside the window."""
        now, total = self._clock(), self.counters.dead_lettered
        while len(self._dead_letter_history) > 1 and now - self._dead_letter_history[1][0] >= self._dead_letter_window:
            self._dead_letter_history.popleft()
        self._dead_letter_history.append((now, total))
        return total - self._dead_letter_history[0][1]

    async def _alert_on_dead_letters(self) -> None:
        """At most one alert a window, when the window holds ``dead_letter_alert_at`` dead letters or more."""
        piled = self._dead_letters_in_window()
        recently_alerted = self._clock() - self._last_alert_at < self._dead_letter_window
        if piled >= self._dead_letter_alert_at and not recently_alerted:
            self._last_alert_at = self._clock()
            alert = OperationsAlert(
                kind="dead_letters_piling_up",
                severity=Severity.WARNING,
                service=self.service,
                summary=f"{piled} messages dead-lettered by {self.service} in {self._dead_letter_window:.0f}s: "
                f"list them with `python -m tienda.messaging.dead_letter_cli list --service {self.service}`",
                details={"dead_lettered": piled, "total": self.counters.dead_lettered},
            )
            await self._publish(alert, PLATFORM_ACCOUNT, wait=True)

    async def run_heartbeats(self, backlog: Callable[[], Awaitable[int]], interval: float) -> None:
        await every(interval, lambda: self.heartbeat(backlog), "heartbeat")

    def render(self) -> bytes:
        return generate_latest(self.registry)

    async def _publish(self, payload: EventPayload, account_id: str, *, wait: bool) -> None:
        envelope = new_envelope(payload, account_id=account_id, producer=self.service)
        topic = topic_for(payload.message_type, self.service).name
        try:
            delivery = await self._publisher.send(topic, account_id, encode(envelope))
        except Exception as error:  # noqa: BLE001 - monitoring never stops the work
            log.warning("%s not published: %s", payload.message_type, error)
            return
        if wait:
            await delivery
        else:
            delivery.add_done_callback(_log_failure)


def _log_failure(delivery: "asyncio.Future[object]") -> None:
    if not delivery.cancelled() and delivery.exception():
        log.warning("monitoring message not delivered: %s", delivery.exception())


def _account_of_key(key: bytes | None) -> str:
    """The account of an undecodable record: its Kafka key when that is a valid account id (a decoded
    envelope's account id was validated with it), else the platform's."""
    account = (key or b"").decode("utf-8", "replace")
    return account if ACCOUNT_ID.fullmatch(account) else PLATFORM_ACCOUNT


class _CoreCollector(Collector):
    """The core's counters, outbox backlog and consumer lag, read at scrape time."""

    def __init__(self, monitoring: Monitoring) -> None:
        self._monitoring = monitoring

    def collect(self) -> Iterator[Any]:
        service = self._monitoring.service
        for name, value in self._monitoring.counters.snapshot().items():
            family = CounterMetricFamily(
                f"tienda_messages_{name}", f"Messages {name.replace('_', ' ')}.", labels=["service"]
            )
            family.add_metric([service], value)
            yield family
        backlog = GaugeMetricFamily("tienda_outbox_backlog", "Outbox messages not yet published.", labels=["service"])
        backlog.add_metric([service], self._monitoring.backlog)
        yield backlog
        leader = GaugeMetricFamily(
            "tienda_outbox_relay_leader",
            "1 while this instance relays the outbox (holds the relay lease), 0 while another replica does.",
            labels=["service"],
        )
        leader.add_metric([service], 1 if self._monitoring.relay_leader() else 0)
        yield leader
        lag = GaugeMetricFamily(
            "tienda_consumer_lag", "Records behind the end of each partition.", labels=["service", "topic", "partition"]
        )
        for (topic, partition), value in sorted(self._monitoring.lag.items()):
            lag.add_metric([service, topic, str(partition)], value)
        yield lag


class _ReadGauge(Collector):
    def __init__(
        self,
        service: str,
        name: str,
        documentation: str,
        labels: Sequence[str],
        read: Callable[[], Iterable[tuple[Sequence[str], float]]],
    ) -> None:
        self._service, self._name, self._documentation = service, name, documentation
        self._labels, self._read = labels, read

    def collect(self) -> Iterator[Any]:
        family = GaugeMetricFamily(self._name, self._documentation, labels=["service", *self._labels])
        for values, value in self._read():
            family.add_metric([self._service, *values], value)
        yield family
