"""Renewal day on a real broker: 2,000 accounts renewed while carts flow, and a renewal killed
(SIGKILL) in the middle and started again; every account is invoiced exactly once per period."""

import re
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import func, select

from tests.reliability.conftest import TOKEN, contract_plans, publish_all, sqlite_database
from tests.reliability.streams import CartStream
from tests.renewal_day import RENEWAL, account_ids, seed_plans
from tests.waiting import eventually
from tienda.billing.adapters.tables import MIGRATIONS as BILLING_MIGRATIONS
from tienda.billing.adapters.tables import billing_accounts, charges, invoices, messaging
from tienda.contracts.topics import ACTIVATION_REQUESTS
from tienda.messaging.database import create_engine
from tienda.messaging.migrations import upgrade_to_head

pytestmark = [pytest.mark.broker, pytest.mark.slow]

ACCOUNTS = 2000
GROUP_TROUBLE = re.compile(
    r"session expired|UnknownMemberId|Heartbeat failed|CommitFailed|RebalanceInProgress|IllegalGeneration|"
    r"not published",
    re.IGNORECASE,
)
"""What billing's log would show if its consumer lost the group or failed an offset commit (aiokafka logs
these at WARNING or ERROR, which the worker keeps), or an outcome could not be published."""
HELD = re.compile(r"event loop held for (\d+) ms")
LOOP_HELD_AT_MOST_MS = 500
"""The watchdog measures wall-clock lateness, which on a 2-core machine shared with other test suites
also counts the time the OS ran other processes: renewal's own hold (one account's statements,
under 100 ms; see bench/renewal.py's CPU figure) is asserted there; here, that nothing comes near
what costs the group (aiokafka's defaults: a heartbeat every 3 s, a 10 s session)."""


async def seeded_billing(url: str, accounts: list[str]) -> None:
    engine = create_engine(url)
    try:
        await upgrade_to_head(engine, BILLING_MIGRATIONS)
        await seed_plans(engine, accounts, datetime.now(UTC))
    finally:
        await engine.dispose()


async def start_renewal(worker) -> dict:
    async with httpx.AsyncClient(base_url=worker.url, timeout=10) as client:
        answer = await client.post(
            "/admin/renewals",
            json={"date": RENEWAL.isoformat(), "early": True},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
    assert answer.status_code == 202, answer.text
    return dict(answer.json())


def run_of(worker) -> dict:
    return dict(worker.get(f"/admin/renewals/{RENEWAL.isoformat()}", TOKEN))


async def renewal_invoices(billing_db, accounts: list[str]) -> dict[str, int]:
    rows = await billing_db.rows(
        select(invoices.c.account_id, func.count().label("invoices"))
        .where(invoices.c.account_id.in_(accounts), invoices.c.kind == "renewal", invoices.c.period_start == RENEWAL)
        .group_by(invoices.c.account_id)
    )
    return {row["account_id"]: row["invoices"] for row in rows}


async def issued_messages(billing_db, accounts: list[str]) -> dict[str, int]:
    """InvoiceIssued messages in billing's outbox, per account (what it publishes, exactly once each)."""
    outbox = messaging.outbox
    rows = await billing_db.rows(
        select(outbox.c.key, func.count().label("messages"))
        .where(outbox.c.key.in_(accounts), outbox.c.message_type == "InvoiceIssued")
        .group_by(outbox.c.key)
    )
    return {row["key"]: row["messages"] for row in rows}


def loop_lag_over_100ms(worker) -> float:
    """Observations of billing's event-loop watchdog above 100 ms (the histogram's buckets)."""
    text = httpx.get(f"{worker.url}/metrics", timeout=5).text
    buckets = dict(re.findall(r'tienda_event_loop_lag_seconds_bucket\{le="([^"]+)",service="billing"\} (\S+)', text))
    return float(buckets["+Inf"]) - float(buckets["0.1"])


async def test_renewal_of_2000_accounts_while_carts_flow_invoices_each_once_and_billing_keeps_its_group(
    bootstrap_servers, start_worker, open_database, data_dir
):
    accounts = account_ids(ACCOUNTS)
    stream = CartStream(size=300, accounts=30)
    store_url, billing_url = sqlite_database(data_dir, "store"), sqlite_database(data_dir, "billing")
    await seeded_billing(billing_url, accounts)
    store_db, billing_db = open_database(store_url), open_database(billing_url)
    start_worker("store", store_url)
    billing = start_worker("billing", billing_url)
    await contract_plans(bootstrap_servers, store_db, stream.account_ids)

    started = await start_renewal(billing)
    assert (started["date"], started["state"]) == (RENEWAL.isoformat(), "running")
    await publish_all(bootstrap_servers, ACTIVATION_REQUESTS.name, stream.messages())
    charged_during_run = await eventually(
        lambda: _charged_while_running(billing, billing_db, stream), timeout=60, what="carts charged during the run"
    )
    finished = await eventually(lambda: _finished(billing), timeout=120, what="the renewal run finished")

    print(f"renewal: {finished}; carts charged while it ran: {charged_during_run}")
    assert (finished["accounts_failed"], finished["accounts_left"]) == (0, 0)
    assert await renewal_invoices(billing_db, accounts) == dict.fromkeys(accounts, 1)
    assert await issued_messages(billing_db, accounts) == dict.fromkeys(accounts, 1)
    await eventually(lambda: _charged(billing_db, stream), timeout=60, what="every cart charged in billing")
    log = billing.log_path.read_text().splitlines()
    trouble = [line for line in log if GROUP_TROUBLE.search(line)]
    assert trouble == [], "billing's consumer lost its group or failed a commit:\n" + "\n".join(trouble[:20])
    held = [int(found.group(1)) for line in log if (found := HELD.search(line))]
    print(f"loop held over 100 ms: {held} ms ({loop_lag_over_100ms(billing):.0f} watchdog samples)")
    assert max(held, default=0) <= LOOP_HELD_AT_MOST_MS
    metrics = httpx.get(f"{billing.url}/metrics", timeout=5).text
    assert f'tienda_billing_renewal_accounts_left{{date="{RENEWAL}",service="billing"}} 0.0' in metrics


async def test_a_renewal_killed_mid_run_and_started_again_invoices_every_account_exactly_once(
    bootstrap_servers, start_worker, open_database, data_dir
):
    accounts = account_ids(ACCOUNTS)
    billing_url = sqlite_database(data_dir, "billing")
    await seeded_billing(billing_url, accounts)
    billing_db = open_database(billing_url)
    billing = start_worker("billing", billing_url)

    await start_renewal(billing)
    killed_at = await eventually(
        lambda: _some_renewed(billing_db, accounts, 300), timeout=60, what="300 accounts renewed"
    )
    billing.kill()
    renewed_before = len(await renewal_invoices(billing_db, accounts))
    assert renewed_before < ACCOUNTS, "the run finished before the kill: nothing was tested"
    restarted = start_worker("billing", billing_url, name="billing-restarted")
    resumed = await start_renewal(restarted)
    finished = await eventually(lambda: _finished(restarted), timeout=120, what="the resumed run finished")

    print(f"killed after {killed_at} accounts ({renewed_before} committed); resumed: {resumed} -> {finished}")
    assert finished["accounts_total"] == ACCOUNTS - renewed_before
    assert await renewal_invoices(billing_db, accounts) == dict.fromkeys(accounts, 1)
    assert await issued_messages(billing_db, accounts) == dict.fromkeys(accounts, 1)
    left = await billing_db.count(
        billing_accounts, billing_accounts.c.account_id.in_(accounts) & (billing_accounts.c.next_renewal <= RENEWAL)
    )
    assert left == 0


async def _finished(worker):
    run = run_of(worker)
    return run if run["state"] == "finished" else None


async def _some_renewed(billing_db, accounts, count):
    renewed = len(await renewal_invoices(billing_db, accounts))
    return renewed if renewed >= count else None


async def _charged_while_running(billing, billing_db, stream):
    charged = await billing_db.count(charges, stream.mine(charges.c.account_id))
    run = run_of(billing)
    assert run["state"] == "running" or charged, f"the run finished before any cart was charged: {run}"
    return charged if charged and run["state"] == "running" else None


async def _charged(billing_db, stream):
    return await billing_db.count(charges, stream.mine(charges.c.account_id)) >= stream.size
