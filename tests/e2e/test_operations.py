"""What an operator sees during a real flow: the outcomes and alerts topics read with
kcat, and each worker's /metrics parsed with the Prometheus client's parser."""

import os
import subprocess
import sys
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import TOKEN
from tests.e2e.test_activation_to_payment import contract_plan
from tests.kafka_client import kcat_publish, kcat_read
from tests.samples import account, activation_requested
from tests.waiting import eventually
from tienda.contracts.topics import ACTIVATION_REQUESTS, OPERATIONS_ALERTS, OPERATIONS_OUTCOMES
from tienda.messaging.codec import encode

pytestmark = pytest.mark.broker


async def test_the_outcomes_and_alerts_topics_tell_an_operator_what_happened(bootstrap_servers, workers):
    account_id = account()
    cart = activation_requested(account_id, ("USR-EXTRA", 1))
    await contract_plan(bootstrap_servers, workers, account_id)
    kcat_publish(bootstrap_servers, ACTIVATION_REQUESTS.name, account_id, encode(cart))
    for n in range(10):
        kcat_publish(bootstrap_servers, ACTIVATION_REQUESTS.name, account_id, f"not json {n}".encode())

    async def outcomes():
        mine = [
            value["payload"]
            for key, value in kcat_read(bootstrap_servers, OPERATIONS_OUTCOMES.name)
            if key == account_id
            and value["payload"]["service"] == "store"
            and value["payload"]["handled_type"] != "PlanContracted"
        ]
        return mine if len(mine) == 11 else None

    seen = await eventually(outcomes, timeout=60, what="11 store outcomes for the account")
    [processed] = [o for o in seen if o["handled_event_id"] == str(cart.event_id)]
    assert processed["result"] == "processed"
    assert processed["latency_ms"] > 0
    dead = [o for o in seen if o["result"] == "dead_lettered"]
    assert len(dead) == 10
    assert all(o["reason"].startswith("PoisonMessage: invalid JSON") for o in dead)

    async def pile_up_alert():
        return [
            value["payload"]
            for _, value in kcat_read(bootstrap_servers, OPERATIONS_ALERTS.name)
            if value["payload"]["kind"] == "dead_letters_piling_up" and value["payload"]["service"] == "store"
        ]

    [alert, *_] = await eventually(pile_up_alert, timeout=60, what="an alert that dead letters pile up")
    assert "dead_letter_cli list --service store" in alert["summary"]


async def test_every_worker_serves_prometheus_metrics_the_official_parser_reads(workers):
    for service, worker in workers.items():
        with urllib.request.urlopen(f"{worker.url}/metrics", timeout=5) as response:
            families = {family.name: family for family in text_string_to_metric_families(response.read().decode())}
        for name in (
            "tienda_messages_consumed",
            "tienda_messages_processed",
            "tienda_messages_rejected",
            "tienda_messages_deduplicated",
            "tienda_messages_retried",
            "tienda_messages_dead_lettered",
            "tienda_outbox_backlog",
            "tienda_handler_seconds",
            "tienda_consumer_lag",
        ):
            assert name in families, f"{service} /metrics lacks {name}"
        assert families["tienda_messages_consumed"].samples[0].labels == {"service": service}


def test_an_operator_runs_renewal_for_a_date_with_the_cli(workers):
    env = {**os.environ, "TIENDA_OPS_BILLING_URL": workers["billing"].url, "TIENDA_OPS_TOKEN": TOKEN, "COLUMNS": "200"}
    result = subprocess.run(
        [sys.executable, "-m", "tienda.ops", "renewal", "--date", "2026-11-25"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2026-11-25" in result.stdout
