"""Duplicates and poison mixed into a stream: poison to the dead-letter topic with its
reason, every good message processed once, the consumer caught up. Replays never double."""

import json
import random
import subprocess
import sys

import pytest

from tests.kafka_client import TopicReader
from tests.reliability.conftest import consumer_lag, contract_plans, publish_all, sqlite_database
from tests.reliability.streams import CartStream, processed, users_by_account
from tests.samples import activation_requested, as_dict
from tests.waiting import eventually
from tienda.contracts.topics import ACTIVATION_REQUESTS, dead_letter_topic
from tienda.messaging.codec import encode
from tienda.store.adapters.tables import messaging

pytestmark = [pytest.mark.broker, pytest.mark.slow]


def poison(account_id: str, kind: int) -> bytes:
    document = as_dict(activation_requested(account_id))
    if kind == 0:
        return b"\x89PNG\r\n\x1a\n\x00\x00"
    if kind == 1:
        return b'{"event_id": "8f9", "type": "ActivationRequested", "payload": {'
    if kind == 2:
        document["payload"]["lines"][0]["quantity"] = "tres"
        return json.dumps(document).encode()
    document["type"] = "ActivationWished"
    return json.dumps(document).encode()


async def test_a_dirty_stream_dead_letters_the_poison_and_processes_every_good_message_once(
    bootstrap_servers, start_worker, open_database, data_dir
):
    rng = random.Random(11)
    stream = CartStream(size=4700)
    good = stream.messages()
    duplicates = rng.sample(good, 250)
    poisoned = [
        (account_id, poison(account_id, n % 4)) for n, account_id in enumerate(rng.choices(stream.account_ids, k=50))
    ]
    dirty = good + duplicates + poisoned
    rng.shuffle(dirty)
    assert len(dirty) == 5000

    url = sqlite_database(data_dir, "store")
    store_db = open_database(url)
    store = start_worker("store", url)
    await contract_plans(bootstrap_servers, store_db, stream.account_ids)
    await publish_all(bootstrap_servers, ACTIVATION_REQUESTS.name, dirty)

    async def caught_up():
        return await consumer_lag(bootstrap_servers, "tienda-store", ACTIVATION_REQUESTS.name) == 0

    await eventually(caught_up, timeout=180, what="consumer lag back to zero")
    assert await processed(store_db, stream) == stream.size
    assert await store_db.count(messaging.inbox, None) >= stream.size
    assert await users_by_account(store_db, stream) == stream.expected_users()

    async with TopicReader(bootstrap_servers, dead_letter_topic("store").name) as dead_letters:

        async def all_poison_dead_lettered():
            await dead_letters.poll()
            mine = [h for h in dead_letters.headers() if h["x-tienda-original-key"] in stream.account_ids]
            return mine if len(mine) == len(poisoned) else None

        letters = await eventually(all_poison_dead_lettered, what="50 dead letters")
    reasons = sorted({letter["x-tienda-error-message"].split(":")[0][:40] for letter in letters})
    print(
        f"dead letters by reason: {reasons}; deduplicated: {store.metrics()['tienda_messages_deduplicated_total']:.0f}"
    )
    assert {letter["x-tienda-error-class"] for letter in letters} == {"PoisonMessage"}
    assert store.metrics()["tienda_messages_deduplicated_total"] >= len(duplicates)


def replay_cli(bootstrap_servers: str, *args: str) -> str:
    command = [
        sys.executable,
        "-m",
        "tienda.messaging.dead_letter_cli",
        *args,
        "--service",
        "store",
        "--bootstrap-servers",
        bootstrap_servers,
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


async def test_a_fixed_dead_letter_replayed_has_its_effect_once_even_replayed_twice(
    bootstrap_servers, start_worker, open_database, data_dir, tmp_path
):
    url = sqlite_database(data_dir, "store")
    store_db = open_database(url)
    start_worker("store", url)
    cart = activation_requested(f"acc-replay-{tmp_path.name[-6:]}", ("RSO-EXTRA", 2))
    await contract_plans(bootstrap_servers, store_db, [cart.account_id])
    broken = as_dict(cart)
    broken["payload"]["payment_mode"] = "cheque"
    await publish_all(bootstrap_servers, ACTIVATION_REQUESTS.name, [(cart.account_id, json.dumps(broken).encode())])

    async with TopicReader(bootstrap_servers, dead_letter_topic("store").name) as dead_letters:

        async def dead_lettered():
            await dead_letters.poll()
            return [r for r in dead_letters.records if r.key == cart.account_id.encode()]

        [letter] = await eventually(dead_lettered, what="the broken cart dead-lettered")
    assert "payload.payment_mode" in dict(letter.headers)["x-tienda-error-message"].decode()
    listed = [json.loads(line) for line in replay_cli(bootstrap_servers, "list", "--json").splitlines()]
    assert [(e["offset"], e["original_topic"]) for e in listed if e["key"] == cart.account_id] == [
        (letter.offset, ACTIVATION_REQUESTS.name)
    ]

    fixed = tmp_path / "fixed.json"
    fixed.write_bytes(encode(cart))
    for _ in range(2):
        output = replay_cli(
            bootstrap_servers, "replay", "--offset", str(letter.offset), "--replace", f"{letter.offset}={fixed}"
        )
        assert "replayed 1 message(s)" in output

    async def replays_seen():
        return await store_db.count(messaging.inbox, messaging.inbox.c.event_id == str(cart.event_id))

    await eventually(replays_seen, what="the fixed cart processed")
    await eventually(lambda: _lag_zero(bootstrap_servers), what="both replays consumed")
    rows = await store_db.rows(
        __import__("sqlalchemy")
        .text("SELECT quantity FROM entitlements WHERE account_id = :a")
        .bindparams(a=cart.account_id)
    )
    assert rows == [{"quantity": 2}]


async def _lag_zero(bootstrap_servers):
    return await consumer_lag(bootstrap_servers, "tienda-store", ACTIVATION_REQUESTS.name) == 0
