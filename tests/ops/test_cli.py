"""`python -m tienda.ops` as an operator runs it, against the real broker."""

import asyncio
import os
import sys
import uuid

import pytest

from tienda.contracts.registry import MESSAGE_TYPES
from tienda.messaging.provisioning import ensure_topics

pytestmark = pytest.mark.broker

TOPIC = "tienda.activations.requested"


async def ops(*args: str) -> tuple[int, str, str]:
    """Run the CLI in its own process; exit code, stdout, stderr (wide, so that Rich does not wrap)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tienda.ops",
        *args,
        env={**os.environ, "COLUMNS": "1000", "NO_COLOR": "1"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.fixture
async def topics(bootstrap_servers: str) -> None:
    await ensure_topics(bootstrap_servers)


async def test_a_published_sample_shows_in_the_tail_of_its_account(bootstrap_servers: str, topics: None) -> None:
    account = f"acc-ops-{uuid.uuid4().hex[:10]}"
    for message_type in ("ActivationRequested", "ReductionRequested"):
        code, out, err = await ops(
            "publish", message_type, "--account", account, "--bootstrap-servers", bootstrap_servers
        )
        assert code == 0, out + err
        assert f"published {message_type}" in out
        assert f"for {account} on {TOPIC}" in out

    code, out, err = await ops(
        "tail",
        TOPIC,
        "--account",
        account,
        "--type",
        "ActivationRequested",
        "--from-beginning",
        "--exit-at-end",
        "--bootstrap-servers",
        bootstrap_servers,
    )

    assert code == 0, out + err
    shown = [line for line in out.splitlines() if account in line]
    assert len(shown) == 1, out
    assert "ActivationRequested" in shown[0]
    assert '"request_id": "cart-2026-11-25-0001"' in shown[0]
    assert '"sku": "USR-EXTRA"' in shown[0]
    assert "ReductionRequested" not in out


async def test_publishing_an_unknown_type_fails_naming_the_known_types(bootstrap_servers: str) -> None:
    code, out, err = await ops(
        "publish", "NoSuchType", "--account", "acc-ops-nobody", "--bootstrap-servers", bootstrap_servers
    )

    assert code != 0
    assert "NoSuchType" in err
    assert all(message_type in err for message_type in MESSAGE_TYPES), err
    assert "published" not in out
