"""A burst of 1,000 activations over 50 accounts, 5 % of them a repeated request id, delivered
by eight concurrent consumers: the entitlements equal the sum of the distinct carts."""

import asyncio
import random
from collections import Counter

from tests.samples import activation_requested
from tests.samples_store import plan_contracted
from tests.store.catalogs import SEED
from tienda.messaging.processor import Outcome

CARTS, ACCOUNTS, REPEATED, LANES = 1000, 50, 50, 8
CHOICES = {"USR-EXTRA": (1, 3), "DTE-100": (1, 2), "TRB-EXTRA": (1, 20), "RSO-EXTRA": (1, 1)}


def burst(seed: int = 2026):
    """950 distinct carts and 50 re-sends of earlier ones (same request id, new event id)."""
    rng = random.Random(seed)
    account_ids = [f"acc-rafaga-{seed}-{n:02d}" for n in range(ACCOUNTS)]
    distinct = []
    for n in range(CARTS - REPEATED):
        skus = rng.sample(sorted(CHOICES), rng.randint(1, 3))
        lines = [(sku, rng.randint(*CHOICES[sku])) for sku in skus]
        distinct.append(activation_requested(rng.choice(account_ids), *lines, request_id=f"cart-{n:04d}"))
    resent = [
        activation_requested(
            cart.account_id,
            *[(line.sku, line.quantity) for line in cart.payload.lines],
            request_id=cart.payload.request_id,
        )
        for cart in rng.sample(distinct, REPEATED)
    ]
    messages = distinct + resent
    rng.shuffle(messages)
    return account_ids, distinct, messages


def expected(distinct) -> Counter:
    totals: Counter = Counter()
    for cart in distinct:
        for line in cart.payload.lines:
            product = SEED[line.sku]
            totals[cart.account_id, product.resource] += line.quantity * product.units_per_quantity
    return totals


async def test_a_burst_with_repeated_request_ids_adds_up_to_the_distinct_carts(store):
    account_ids, distinct, messages = burst()
    for account_id in account_ids:
        await store.deliver(plan_contracted(account_id))
    queue: asyncio.Queue = asyncio.Queue()
    for message in messages:
        queue.put_nowait(message)
    outcomes: Counter = Counter()

    async def consumer():
        while not queue.empty():
            outcomes[await store.deliver(queue.get_nowait())] += 1

    await asyncio.gather(*(consumer() for _ in range(LANES)))

    assert outcomes == {Outcome.PROCESSED: CARTS}
    assert store.dead_letters() == []
    assert len(await store.rows("activations")) == CARTS - REPEATED
    held = Counter({(row["account_id"], row["resource"]): row["quantity"] for row in await store.rows("entitlements")})
    assert held == expected(distinct)
    published = Counter(message["type"] for message in await store.relay())
    assert published["ChargeScheduled"] == published["ActivationCompleted"] == CARTS - REPEATED
    assert published["ActivationRejected"] == 0
