"""The three workers on the secured three-broker cluster (tests/cluster/conftest.py), each
authenticated as its own principal (SASL_SSL, SCRAM-SHA-512) and held to the registry's ACLs.

The whole path: the ERP's cart becomes an activation in the store, a charge and an order in
billing; the gateway's payment is recorded and the order's invoice issued. The workers use
idempotent producers with Write on their topics and no IdempotentWrite on the cluster: that is
enough on Kafka 4. Then what the broker refuses, and a broker dying under load.
"""

import asyncio
import itertools
import json
import time
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka.errors import TopicAuthorizationFailedError
from confluent_kafka import KafkaError
from confluent_kafka.admin import AdminClient
from sqlalchemy import func, select

from tests import figures
from tests.cluster.pacing import PacedPublisher
from tests.e2e.test_billing_flows import first, history, paid, today_in_chile, uf_value
from tests.kafka_client import TopicReader, publish
from tests.reliability.conftest import contract_plans
from tests.reliability.streams import CartStream, outbox_backlog, processed, users_by_account
from tests.samples import account, activation_requested, payment_received
from tests.samples_store import plan_contracted, store_knows
from tests.waiting import eventually
from tienda.billing.adapters.tables import charges
from tienda.contracts.envelope import new_envelope
from tienda.contracts.topics import (
    ACCOUNT_PLANS,
    ACTIVATION_REQUESTS,
    ADVISOR_EVENTS,
    BILLING_EVENTS,
    BILLING_REQUESTS,
    PAYMENTS_RECEIVED,
    PLATFORM_ACCOUNT,
    STORE_EVENTS,
    UF_VALUES,
)
from tienda.contracts.types import PaymentMode
from tienda.messaging.connection import KafkaConnection

pytestmark = [pytest.mark.broker, pytest.mark.postgres, pytest.mark.cluster]


async def test_a_cart_becomes_an_activation_a_charge_an_order_a_payment_and_an_invoice_on_the_secured_cluster(
    secured_cluster, secured_workers
):
    erp, gateway, feed = (secured_cluster.connection(name) for name in ("erp-web", "payment-gateway", "indicator-feed"))
    operators = secured_cluster.connection("operators")
    account_id = account()
    days = [today_in_chile() + timedelta(days=n) for n in (-1, 0, 1)]
    values = [new_envelope(uf_value(day), account_id=PLATFORM_ACCOUNT, producer="indicator-feed") for day in days]
    await publish(feed, UF_VALUES.name, *values)
    await publish(erp, ACCOUNT_PLANS.name, plan_contracted(account_id, renewal_anchor=days[1] - timedelta(days=5)))
    await eventually(store_knows(secured_workers, account_id), what="the plan in the store")

    cart = activation_requested(account_id, ("USR-EXTRA", 2), mode=PaymentMode.ONLINE)
    async with (
        TopicReader(operators, STORE_EVENTS.name) as store_events,
        TopicReader(operators, BILLING_EVENTS.name) as billing_events,
    ):
        await publish(erp, ACTIVATION_REQUESTS.name, cart)
        completed = await first(store_events, account_id, "ActivationCompleted")
        charge = await first(store_events, account_id, "ChargeScheduled")
        order = (await first(billing_events, account_id, "OrderCreated"))["payload"]

        payment_id = f"wp-secured-{account_id}"
        await publish(
            gateway, PAYMENTS_RECEIVED.name, paid(account_id, order["order_id"], order["total_clp"], payment_id)
        )
        recorded = await eventually(
            lambda: history(secured_workers, account_id, payment_id), what="the payment in billing's history"
        )
        invoice = (await first(billing_events, account_id, "InvoiceIssued"))["payload"]

    assert completed["causation_id"] == charge["causation_id"] == str(cart.event_id)
    assert [(line["sku"], line["quantity"]) for line in order["lines"]] == [("USR-EXTRA", 2)]
    assert (recorded["document_id"], recorded["amount_clp"]) == (order["order_id"], order["total_clp"])
    assert (invoice["kind"], invoice["status"], invoice["total_clp"]) == ("order", "paid", order["total_clp"])
    plan = secured_workers.get_json("store", f"/accounts/{account_id}/plan")
    assert plan["entitlements"] == {"users": 2}


async def test_no_password_leaves_a_worker_through_its_logs_metrics_or_readiness(secured_cluster, secured_workers):
    for service, worker in secured_workers.items():
        password = secured_cluster.passwords[service]
        status, readiness = worker.readiness()
        with urllib.request.urlopen(f"{worker.url}/metrics", timeout=5) as response:
            metrics = response.read().decode()
        assert status == 200, readiness
        assert password not in json.dumps(readiness)
        assert password not in metrics
        assert password not in worker.log_path.read_text(errors="replace")
        assert f"SCRAM-SHA-512 as {service}" in worker.log_path.read_text(errors="replace")


# --------------------------------------------------------------------------- what the broker refuses


async def test_a_payment_published_with_erp_web_credentials_is_refused_by_the_broker_and_never_recorded(
    secured_cluster, secured_workers
):
    account_id = account()
    forged = payment_received(account_id, "ORD-2026-0042", 99_000, payment_id="wp-forged")
    with pytest.raises(TopicAuthorizationFailedError):
        await publish(secured_cluster.connection("erp-web"), PAYMENTS_RECEIVED.name, forged)

    # The gateway's own payment, same account (same partition, after the forged one had it got
    # there): once it is recorded, the forged one would have been too.
    genuine = payment_received(account_id, "ORD-2026-0042", 1_000, payment_id="wp-genuine")
    await publish(secured_cluster.connection("payment-gateway"), PAYMENTS_RECEIVED.name, genuine)
    await eventually(lambda: history(secured_workers, account_id, "wp-genuine"), what="the gateway's payment")
    payments = secured_workers.get_json("billing", f"/accounts/{account_id}/payments")["payments"]
    assert [payment["payment_id"] for payment in payments] == ["wp-genuine"]


async def test_the_store_principal_cannot_write_the_payments_topic(secured_cluster):
    payment = payment_received(account(), "ORD-2026-0043", 5_000)
    with pytest.raises(TopicAuthorizationFailedError):
        await publish(secured_cluster.connection("store"), PAYMENTS_RECEIVED.name, payment)


def test_the_advisor_principal_cannot_read_card_subscriptions(secured_cluster):
    """The broker answers the advisor's request for the topic's metadata (where its partitions
    are, the first step of any read) with a topic authorization failure: Kafka implies Describe
    from Read, so a refused Describe means no Read. What it consumes, it may look up."""
    advisor = secured_cluster.connection("advisor")
    assert topic_error(advisor, BILLING_EVENTS.name) is None
    assert topic_error(advisor, BILLING_REQUESTS.name) == KafkaError.TOPIC_AUTHORIZATION_FAILED


async def test_operators_may_send_a_dead_letter_back_but_not_write_what_the_services_publish(secured_cluster):
    operators = secured_cluster.connection("operators")
    replayed = activation_requested(account(), ("USR-EXTRA", 1))  # no plan: the store will refuse it, no more
    await publish(operators, ACTIVATION_REQUESTS.name, replayed)
    with pytest.raises(TopicAuthorizationFailedError):
        await publish(operators, ADVISOR_EVENTS.name, (replayed.account_id, b"{}"))


def topic_error(connection: KafkaConnection, topic: str) -> int | None:
    """The error code the broker gives ``connection``'s principal for ``topic``'s metadata, None
    when it gives the partitions (librdkafka's client, another real one)."""
    admin = AdminClient(connection.librdkafka_config() | {"log_level": 0})
    error = admin.list_topics(topic, timeout=30).topics[topic].error
    return None if error is None else int(error.code())


# --------------------------------------------------------------------------- a broker dies


async def test_a_broker_killed_mid_flow_loses_and_doubles_nothing_and_with_two_down_producers_wait(
    secured_cluster, secured_workers, database
):
    """2,000 carts over topics of replication factor 3 and min.insync.replicas 2, all on the broker
    first, so that the workers are mid-flow at each blow. The broker leading the most partitions
    is killed -9 when 400 are charged; when the store has handled 1,200, a second one is stopped:
    with one broker left no write has enough replicas in sync, so the workers' producers hold what
    they cannot send. It comes back and everything arrives; then the first. Both are running again
    for the tests after this one."""
    store_db, billing_db = database["store"], database["billing"]
    stream = CartStream(size=2000, accounts=200)
    await contract_plans(secured_cluster.connection("erp-web"), store_db, stream.account_ids)
    dead_letters_before = sum(
        worker.metrics()["tienda_messages_dead_lettered_total"] for worker in secured_workers.values()
    )
    carts = PacedPublisher(
        secured_cluster.connection("erp-web"), ACTIVATION_REQUESTS.name, stream.messages(), per_second=5000
    )
    await carts.run()
    assert (carts.acked, carts.failures) == (stream.size, [])

    async def charged() -> int:
        return await billing_db.count(charges, stream.mine(charges.c.account_id))

    await eventually(lambda: _at_least(charged, 400), timeout=180, what="400 carts charged")
    victim = secured_cluster.leaders().most_common(1)[0][0]
    killed_at, began = datetime.now(UTC), time.monotonic()
    secured_cluster.node(victim).kill()
    await eventually(lambda: asyncio.to_thread(secured_cluster.led_by_live_nodes), timeout=60, what="new leaders")
    failover = time.monotonic() - began

    await eventually(lambda: _at_least(lambda: processed(store_db, stream), 1200), timeout=240, what="1,200 handled")
    second = next(node for node in secured_cluster.nodes if node.running)
    second_stopped_at = datetime.now(UTC)
    await asyncio.to_thread(second.stop)
    backlog_seen = 0
    for _ in range(30):  # 3 s with one broker: what the store handles stays in its outbox
        await asyncio.sleep(0.1)
        backlog_seen = max(backlog_seen, await outbox_backlog(store_db))
    assert backlog_seen > 0, "the store's relay published, or its consumer stopped, with one broker left"
    assert all(worker.running() for worker in secured_workers.values())
    outage_began = time.monotonic()
    await asyncio.to_thread(second.start)

    async def all_charged():
        charged = await billing_db.count(charges, stream.mine(charges.c.account_id))
        return charged >= stream.size and await processed(store_db, stream) == stream.size

    await eventually(all_charged, timeout=300, what="every cart activated and charged")
    caught_up = time.monotonic() - outage_began
    assert await eventually(lambda: _drained(store_db), timeout=60, what="the store's outbox drained")
    assert await users_by_account(store_db, stream) == stream.expected_users()
    per_cart = await billing_db.rows(
        select(charges.c.request_id, func.min(charges.c.recorded_at).label("recorded_at"), func.count().label("lines"))
        .where(stream.mine(charges.c.account_id))
        .group_by(charges.c.request_id)
    )
    assert len(per_cart) == stream.size  # a charge for every cart: none lost
    assert {row["lines"] for row in per_cart} == {1}  # and one only: none doubled
    dead_letters = sum(worker.metrics()["tienda_messages_dead_lettered_total"] for worker in secured_workers.values())
    assert dead_letters == dead_letters_before

    charged_at = _charged_at_by_partition(stream, carts, per_cart)
    every = {0: sorted(at for times in charged_at.values() for at in times)}
    after = _longest_pause(every, killed_at, second_stopped_at)[0]
    before = _longest_pause(every, max(every[0][0], killed_at - (second_stopped_at - killed_at)), killed_at)[0]
    served_again = {
        partition: min(((at - killed_at).total_seconds() for at in times if at > killed_at), default=float("nan"))
        for partition, times in charged_at.items()
    }
    rss = secured_cluster.rss_mib()
    await asyncio.to_thread(secured_cluster.node(victim).start)
    await asyncio.to_thread(secured_cluster.wait_ready, 300, True)
    figures.record("broker failure: leaders moved off the killed broker", f"{failover:.1f} s")
    by_partition = ", ".join(f"{partition}: {seconds:.1f}" for partition, seconds in sorted(served_again.items()))
    figures.record(
        "broker failure: longest pause in billing's charges after the kill",
        f"{after:.1f} s (in as long a time before it: {before:.1f} s)",
    )
    figures.record(
        "broker failure: kill -9 to the first charge on each partition (recovery, worst)",
        f"{max(served_again.values()):.1f} s (each: {by_partition}; the backlog makes a partition's progress bursty)",
    )
    figures.record("broker failure: second broker back to every cart charged", f"{caught_up:.1f} s")
    figures.record("broker failure: store outbox rows held while two brokers were down", str(backlog_seen))
    figures.record(
        "broker failure: kill -9 to the second broker stopped",
        f"{(second_stopped_at - killed_at).total_seconds():.1f} s",
    )
    figures.record(
        "secured cluster: RSS of the two live brokers after 2,000 carts",
        ", ".join(f"{m:.0f} MiB" for m in rss.values()),
    )


def _charged_at_by_partition(stream, carts, charged_rows) -> dict[int, list[datetime]]:
    """When billing recorded the charge of each cart, by the partition the cart went to (an
    account keeps its partition number across topics of 6 partitions: one key, one hash)."""
    recorded = {row["request_id"]: row["recorded_at"] for row in charged_rows}
    by_partition: dict[int, list[datetime]] = {}
    for envelope, sent in zip(stream.envelopes, carts.sent, strict=True):
        at = recorded[envelope.payload.request_id]
        by_partition.setdefault(sent.partition, []).append(at if at.tzinfo else at.replace(tzinfo=UTC))
    return {partition: sorted(times) for partition, times in by_partition.items()}


def _longest_pause(charged_at: dict[int, list[datetime]], start: datetime, end: datetime) -> dict[int, float]:
    """For each partition, the longest time between two charges (or a window's edge) in [start, end]."""
    pauses = {}
    for partition, times in charged_at.items():
        inside = [start, *(at for at in times if start < at < end), end]
        pauses[partition] = max((b - a).total_seconds() for a, b in itertools.pairwise(inside))
    return pauses


async def _at_least(count, wanted: int) -> bool:
    return await count() >= wanted


async def _drained(store_db) -> bool:
    return await outbox_backlog(store_db) == 0
