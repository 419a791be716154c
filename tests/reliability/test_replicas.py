"""Replicas: two of each worker on one PostgreSQL database per service, and one replica of
each service killed with SIGKILL mid-flow (the one that relays its outbox).

Every cart is activated once, charged once and noted once on the advisor's timeline,
and every outbox row is counted on the wire. With the relay lease, only rows that a
killed holder had in flight are published twice. Prints the figures: start, takeover,
flow and copies.

``TIENDA_REPLICAS_WITHOUT_LEASE=1`` also runs it with the lease turned off
(``RELAY_LEASE=false``: both replicas relay the same rows), for the figure to compare;
CI runs only the lease, which is what ships."""

import asyncio
import os
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import func, select

from tests.kafka_client import copies_on_the_wire
from tests.reliability.conftest import contract_plans, postgres_database, publish_all
from tests.reliability.streams import CartStream, processed, users_by_account
from tests.waiting import eventually
from tests.worker_database import Database
from tienda.advisor.adapters.tables import timeline
from tienda.billing.adapters.tables import charges
from tienda.contracts.topics import ACTIVATION_REQUESTS, topics_consumed_by
from tienda.devkit.workers import SERVICES, WorkerProcess
from tienda.store.adapters.tables import messaging as store_messaging

pytestmark = [pytest.mark.broker, pytest.mark.postgres, pytest.mark.slow]

CARTS = 5000  # the count. On the shared 2-core machine (load 8-11, where bench/pipeline.py
# on PostgreSQL carried 46 carts/s against 185/s idle) the flow took 112-118 s and the test 150-162 s.
KILL_AFTER = 1500
RELAY_BATCH_SIZE = 500
NOTED = ("activation_completed", "charge_scheduled")
OUTBOX = store_messaging.outbox  # the same table in every service's database


@dataclass
class Service:
    name: str
    database: Database
    replicas: list[WorkerProcess]


LEASE = ["on", "off"] if os.environ.get("TIENDA_REPLICAS_WITHOUT_LEASE") else ["on"]


@pytest.mark.parametrize("lease", LEASE)
async def test_two_replicas_of_each_worker_one_killed_mid_flow_have_every_effect_once(
    lease, bootstrap_servers, start_worker, open_database, postgres
):
    stream = CartStream(size=CARTS, accounts=100)
    urls = {name: postgres_database(postgres) for name in SERVICES}
    for name in SERVICES:  # earlier tests' unconsumed records are not this test's flow
        await skip_to_the_end(bootstrap_servers, name)
    began = time.monotonic()
    workers = await asyncio.gather(
        *(
            asyncio.to_thread(start_worker, name, urls[name], f"{name}-{n}", relay_lease=str(lease == "on").lower())
            for name in SERVICES
            for n in (1, 2)
        )
    )
    services = {
        name: Service(name, open_database(urls[name]), [w for w in workers if w.service == name]) for name in SERVICES
    }
    started = time.monotonic() - began
    await contract_plans(bootstrap_servers, services["store"].database, stream.account_ids)
    flow_began = time.monotonic()
    await publish_all(bootstrap_servers, ACTIVATION_REQUESTS.name, stream.messages())
    await eventually(lambda: _at_least(services["store"], stream, KILL_AFTER), timeout=120, what="the flow under way")
    print(f"\n{KILL_AFTER} carts activated {time.monotonic() - flow_began:.1f}s after the first; killing", flush=True)

    takeover = await kill_the_relaying_replica_of_each(services.values())
    try:
        await eventually(lambda: every_effect_in(services, stream), timeout=180, what="every effect in place")
    except AssertionError as error:
        raise AssertionError(f"{error}; where the flow stands: {await progress(services, stream)}") from None
    flow = time.monotonic() - flow_began
    print(f"every effect in place after {flow:.1f}s", flush=True)

    assert await users_by_account(services["store"].database, stream) == stream.expected_users()
    assert await lines_per_activation(services["billing"].database, stream) == {1: CARTS}
    assert await noted(services["advisor"].database, stream) == dict.fromkeys(NOTED, CARTS)
    copies = {name: await copies_of_each_row(bootstrap_servers, service) for name, service in services.items()}
    print(f"\nrelay lease {lease}: {CARTS} carts, 2 replicas of each worker started in {started:.1f}s, one of each")
    print(f"killed after {KILL_AFTER} carts; every effect in place {flow:.1f}s after the first cart")
    for name, each in copies.items():
        histogram = dict(sorted(Counter(each.values()).items()))
        print(f"  {name:8} {len(each):6} outbox rows, published N times: rows {histogram}; extra copies {extra(each)}")
        relays = f"another replica relays {takeover[name]}" if lease == "on" else "both replicas relayed"
        print(f"           {relays}; inbox dropped {deduplicated(services[name])} redeliveries")
    assert all(count >= 1 for each in copies.values() for count in each.values()), "an outbox row never published"
    if lease == "on":
        # Only what the killed holders had in flight (one relay batch each at most) goes out twice.
        assert sum(extra(each) for each in copies.values()) <= len(SERVICES) * RELAY_BATCH_SIZE


async def kill_the_relaying_replica_of_each(services: Iterable[Service]) -> dict[str, str]:
    """SIGKILL the replica of each service that relays its outbox; how soon the other relays."""
    killed_at: dict[str, float] = {}
    survivors: dict[str, WorkerProcess] = {}
    for service in services:
        leading = [await _leads(w) for w in service.replicas]
        assert leading.count(True) >= 1, f"no {service.name} replica relays its outbox"
        holder = service.replicas[leading.index(True)]
        holder.kill()
        killed_at[service.name] = time.monotonic()
        survivors[service.name] = next(w for w in service.replicas if w is not holder)
    taken: dict[str, str] = {}
    for name, survivor in survivors.items():
        await eventually(lambda survivor=survivor: _leads(survivor), timeout=30, what=f"a {name} replica relaying")
        taken[name] = f"{1000 * (time.monotonic() - killed_at[name]):.0f} ms after the kill"
    return taken


async def _leads(worker: WorkerProcess) -> bool:
    metrics = await asyncio.to_thread(worker.metrics)
    return metrics["tienda_outbox_relay_leader"] == 1


async def skip_to_the_end(bootstrap_servers: str, service: str) -> None:
    """Commit the end of every topic ``service`` consumes for its group (no member runs yet)."""
    partitions = [
        TopicPartition(topic.name, p) for topic in topics_consumed_by(service) for p in range(topic.partitions)
    ]
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers, group_id=f"tienda-{service}", enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign(partitions)
        end = await consumer.end_offsets(partitions)
        await consumer.commit(end)
    finally:
        await consumer.stop()


async def progress(services: dict[str, Service], stream: CartStream) -> dict[str, int]:
    store, billing, advisor = (services[name].database for name in SERVICES)
    return {
        "activated": await processed(store, stream),
        "charged": await billing.count(charges, stream.mine(charges.c.account_id)),
        "noted": sum((await noted(advisor, stream)).values()),
    } | {
        f"{name} unpublished": await s.database.count(OUTBOX, OUTBOX.c.published_at.is_(None))
        for name, s in services.items()
    }


async def every_effect_in(services: dict[str, Service], stream: CartStream) -> bool:
    now = await progress(services, stream)
    expected = {"activated": CARTS, "charged": CARTS, "noted": len(NOTED) * CARTS}
    return all(now[what] == count for what, count in expected.items()) and not any(
        count for what, count in now.items() if what.endswith("unpublished")
    )


async def lines_per_activation(billing: Database, stream: CartStream) -> dict[int, int]:
    """How many activations have 1 charge line, 2 lines... (each cart has one line)."""
    rows = await billing.rows(
        select(charges.c.activation_id, func.count().label("lines"))
        .where(stream.mine(charges.c.account_id))
        .group_by(charges.c.activation_id)
    )
    return dict(Counter(row["lines"] for row in rows))


async def noted(advisor: Database, stream: CartStream) -> dict[str, int]:
    rows = await advisor.rows(
        select(timeline.c.kind, func.count().label("entries"))
        .where(stream.mine(timeline.c.account_id), timeline.c.kind.in_(NOTED))
        .group_by(timeline.c.kind)
    )
    return {row["kind"]: row["entries"] for row in rows}


async def copies_of_each_row(bootstrap_servers: str, service: Service) -> dict[str, int]:
    """Each outbox row's event id and how many times it is on the wire."""
    rows = await service.database.rows(select(OUTBOX.c.event_id, OUTBOX.c.topic))
    copies = await copies_on_the_wire(bootstrap_servers, {row["topic"] for row in rows}, [r["event_id"] for r in rows])
    return {row["event_id"]: copies[row["event_id"]] for row in rows}


def extra(copies: dict[str, int]) -> int:
    return sum(count - 1 for count in copies.values() if count > 1)


def deduplicated(service: Service) -> int:
    return sum(int(w.metrics()["tienda_messages_deduplicated_total"]) for w in service.replicas if w.running())


async def _at_least(store: Service, stream: CartStream, count: int) -> int:
    done = await processed(store.database, stream)
    return done if done >= count else 0
