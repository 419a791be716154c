"""Heartbeats, outcomes and the alert when dead letters pile up."""

import json

from prometheus_client.parser import text_string_to_metric_families

from tests.fakes import FakePublisher
from tienda.contracts.topics import HEARTBEATS, OPERATIONS_ALERTS
from tienda.messaging.counters import Counters
from tienda.messaging.monitoring import Monitoring


async def backlog_of_three() -> int:
    return 3


def payloads(publisher: FakePublisher, topic: str) -> list[dict]:
    return [json.loads(sent.value)["payload"] for sent in publisher.on(topic)]


async def test_a_heartbeat_carries_the_counters_and_the_outbox_backlog():
    publisher, counters = FakePublisher(), Counters(consumed=12, processed=11, dead_lettered=1)
    await Monitoring("billing", publisher, counters).heartbeat(backlog_of_three)
    [beat] = payloads(publisher, HEARTBEATS.name)
    assert (beat["service"], beat["outbox_backlog"], beat["counters"]["processed"]) == ("billing", 3, 11)


async def test_dead_letters_piling_up_within_the_window_raise_one_alert():
    publisher, counters = FakePublisher(), Counters()
    monitoring = Monitoring("store", publisher, counters, dead_letter_alert_at=10)
    await monitoring.heartbeat(backlog_of_three)
    counters.dead_lettered = 6
    await monitoring.heartbeat(backlog_of_three)
    counters.dead_lettered = 12
    await monitoring.heartbeat(backlog_of_three)
    counters.dead_lettered = 30
    await monitoring.heartbeat(backlog_of_three)
    [alert] = payloads(publisher, OPERATIONS_ALERTS.name)
    assert (alert["kind"], alert["details"]["dead_lettered"]) == ("dead_letters_piling_up", 12)


async def test_dead_letters_older_than_the_window_do_not_count():
    publisher, counters = FakePublisher(), Counters()
    now = [0.0]
    monitoring = Monitoring("store", publisher, counters, 10, dead_letter_window=60, clock=lambda: now[0])
    counters.dead_lettered, now[0] = 9, 10.0
    await monitoring.heartbeat(backlog_of_three)
    counters.dead_lettered, now[0] = 12, 80.0
    await monitoring.heartbeat(backlog_of_three)
    assert payloads(publisher, OPERATIONS_ALERTS.name) == []


async def test_a_few_dead_letters_raise_no_alert():
    publisher, counters = FakePublisher(), Counters()
    monitoring = Monitoring("store", publisher, counters, dead_letter_alert_at=10)
    counters.dead_lettered = 9
    await monitoring.heartbeat(backlog_of_three)
    assert payloads(publisher, OPERATIONS_ALERTS.name) == []


def test_metrics_are_readable_by_the_prometheus_parser():
    monitoring = Monitoring("advisor", FakePublisher(), Counters(consumed=5, retried=2))
    monitoring.record_position("tienda.store.events", 3, 41, 50)
    families = {f.name: f for f in text_string_to_metric_families(monitoring.render().decode())}
    assert families["tienda_messages_retried"].samples[0].value == 2
    [lag] = families["tienda_consumer_lag"].samples
    assert (lag.labels["partition"], lag.value) == ("3", 8)
