"""A worker given a wrong password is not ready, says why, and consumes nothing; given the right
one and restarted, it catches up with everything published meanwhile. An untrusted certificate,
a listener of another protocol, a closed port: each is named too. No other store runs here, so
the group ``tienda-store`` has this worker alone."""

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import GroupCoordinatorNotAvailableError
from sqlalchemy import func, select

from tests.reliability.conftest import publish_all
from tests.reliability.streams import CartStream
from tests.samples_store import plans_for
from tests.waiting import eventually
from tienda.contracts.topics import ACCOUNT_PLANS, ACTIVATION_REQUESTS
from tienda.devkit.tls import create_ca
from tienda.devkit.workers import WorkerProcess, worker_env
from tienda.messaging.connection import KafkaConnection
from tienda.messaging.database import create_engine
from tienda.messaging.diagnosis import diagnose
from tienda.store.adapters.tables import messaging

pytestmark = [pytest.mark.broker, pytest.mark.cluster]

GROUP = "tienda-store"


async def committed(cluster) -> dict:
    """The group's committed offsets (none yet is an answer too); the coordinator of a cluster
    that just started may need a moment to exist."""
    admin = AIOKafkaAdminClient(**cluster.connection().client_options())
    await admin.start()

    async def offsets():
        try:
            return {tp: meta.offset for tp, meta in (await admin.list_consumer_group_offsets(GROUP)).items()}, True
        except GroupCoordinatorNotAvailableError:
            return None

    try:
        found, _ = await eventually(offsets, what=f"the coordinator of {GROUP}")
    finally:
        await admin.close()
    return found


async def test_a_store_with_a_wrong_password_is_not_ready_says_why_and_consumes_nothing_until_fixed(
    secured_cluster, tmp_path
):
    database = f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    env = worker_env("store", secured_cluster.bootstrap_servers, database, log_json="false")
    right = env | secured_cluster.worker_env("store")
    wrong = right | {"TIENDA_STORE_KAFKA_SASL_PASSWORD": "not-the-password"}
    before = await committed(secured_cluster)
    store = WorkerProcess("store", wrong, tmp_path / "store-wrong.log")
    store.start(wait=False)
    try:

        async def refused():
            status, body = store.readiness()
            return body if status == 503 and "authentication" in str(body.get("reasons")) else None

        body = await eventually(refused, timeout=90, what="readiness naming the refused password")
        stream = CartStream(size=300, accounts=30)
        await publish_all(secured_cluster.connection("erp-web"), ACCOUNT_PLANS.name, plans_for(stream.account_ids))
        await publish_all(secured_cluster.connection("erp-web"), ACTIVATION_REQUESTS.name, stream.messages())
        still = store.readiness()[1]
        assert store.running()
    finally:
        store.stop()
    assert body["reasons"] == ["kafka: authentication failed for user store (SCRAM-SHA-512)"]
    assert still["reasons"] == body["reasons"]  # still refused, still retrying
    assert await committed(secured_cluster) == before  # it consumed nothing
    assert "not-the-password" not in (tmp_path / "store-wrong.log").read_text()

    fixed = WorkerProcess("store", right, tmp_path / "store-fixed.log")
    fixed.start(timeout=120)
    engine = create_engine(database)
    try:

        async def handled():
            # Every cart through the store's inbox: activated, or refused when it came before its
            # account's plan (two topics, no order between them); none left behind.
            wanted = [str(envelope.event_id) for envelope in stream.envelopes]
            query = select(func.count()).select_from(messaging.inbox).where(messaging.inbox.c.event_id.in_(wanted))
            async with engine.connect() as connection:
                return int(await connection.scalar(query) or 0) == stream.size

        await eventually(handled, timeout=180, what="every cart published while it was refused, handled")
    finally:
        fixed.stop()
        await engine.dispose()


async def test_each_way_of_failing_to_connect_is_named(secured_cluster, tmp_path):
    store = secured_cluster.connection("store")
    other_ca = create_ca(tmp_path / "other-ca", "Someone else's CA").certificate
    plaintext = KafkaConnection(bootstrap_servers=secured_cluster.nodes[0].bootstrap_servers)
    closed = KafkaConnection(bootstrap_servers="127.0.0.1:9")
    where = secured_cluster.nodes[0].bootstrap_servers

    assert await diagnose(store) is None
    assert (
        await diagnose(store.replace(sasl_password="guess")) == "authentication failed for user store (SCRAM-SHA-512)"
    )
    assert await diagnose(store.replace(sasl_mechanism="SCRAM-SHA-256")) is None
    assert await diagnose(store.replace(sasl_mechanism="PLAIN")) is None
    untrusted = await diagnose(store.replace(ssl_ca_file=other_ca))
    assert untrusted.startswith(f"the TLS certificate of {where}, ")
    assert "is not trusted" in untrusted
    assert "KAFKA_SSL_CA_FILE" in untrusted
    assert await diagnose(plaintext) == (
        f"{where} closed the connection during the PLAINTEXT handshake: is the listener of that protocol?"
    )
    assert await diagnose(closed) == "nothing listens on 127.0.0.1:9"
