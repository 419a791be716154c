"""Topics and ACLs on the secured cluster: what differs from the registry is reported, what is
missing is created with the cluster's replication, a service may not create topics, and the
operator CLI does all of it with a principal's credentials file."""

import os
import subprocess
import sys
import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from typer.testing import CliRunner

from tienda.contracts.topics import Topic
from tienda.messaging.provisioning import ProvisioningError, TopicLayout, check_topics, provision
from tienda.ops.acls import apply_acls, planned_acls
from tienda.ops.cli import app

pytestmark = [pytest.mark.broker, pytest.mark.cluster]


def a_topic(**declared) -> Topic:
    name = f"tienda.test.{uuid.uuid4().hex[:8]}"
    return Topic(
        name=name, description="a test topic", producers=("store",), consumers=("billing",), messages=(), **declared
    )


async def test_a_topic_with_fewer_partitions_less_replication_and_another_cleanup_policy_is_reported(secured_cluster):
    topic = a_topic(partitions=6)
    admin = AIOKafkaAdminClient(**secured_cluster.connection().client_options())
    await admin.start()
    try:
        configs = {"cleanup.policy": "compact", "min.insync.replicas": "1"}
        await admin.create_topics([NewTopic(topic.name, 2, 1, topic_configs=configs)])
    finally:
        await admin.close()

    report = await check_topics(secured_cluster.connection("operators"), [topic], TopicLayout(-1, 2))

    assert report.wanted_replication_factor == 3  # the cluster's default, read by operators
    assert report.findings == [
        f"{topic.name} has 2 partitions, the registry declares 6 (fewer partitions: less parallelism; "
        "adding some moves accounts to other partitions, so plan it)",
        f"{topic.name} has replication factor 1, wanted 3",
        f"{topic.name} has cleanup.policy=compact, the registry declares delete",
        f"{topic.name} has min.insync.replicas=1, wanted 2",
    ]


async def test_a_missing_topic_is_created_with_the_clusters_replication_and_the_wanted_min_insync(secured_cluster):
    topic = a_topic(partitions=3, compacted=True, retention_days=None)
    result = await provision(secured_cluster.connection(), [topic], TopicLayout(-1, 2))
    report = await check_topics(secured_cluster.connection(), [topic], TopicLayout(-1, 2))
    assert result.created == [topic.name]
    assert report.ok, report.findings
    state = report.states[topic.name]
    assert (state.partitions, state.replication_factor, state.cleanup_policy, state.min_insync_replicas) == (
        3,
        3,
        "compact",
        2,
    )


async def test_a_service_may_not_create_topics_and_is_told_who_can(secured_cluster):
    store = secured_cluster.connection("store")
    with pytest.raises(ProvisioningError, match="set KAFKA_REPLICATION_FACTOR, or have an administrator run"):
        await provision(store, [a_topic()])  # it may not even read the cluster's default
    with pytest.raises(ProvisioningError, match=r"TopicAuthorizationFailedError.*tienda.ops topics apply"):
        await provision(store, [a_topic()], TopicLayout(3))


def test_applying_the_registry_acls_again_changes_nothing_and_strays_are_found_and_pruned(secured_cluster):
    admin = secured_cluster.connection()
    again = apply_acls(admin)
    assert (again.created, len(again.already_there), again.extra) == ([], len(planned_acls()), [])

    stray = planned_acls()[0].__class__("crm", "topic", "tienda.payments.received", "WRITE", why="a mistake")
    apply_acls(admin, [*planned_acls(), stray])
    found = apply_acls(admin)
    pruned = apply_acls(admin, prune=True)
    assert found.extra == ["User:crm ALLOW WRITE topic tienda.payments.received"]
    assert pruned.removed == found.extra
    assert apply_acls(admin).extra == []


def ops(cluster, principal: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("KAFKA_")}
    credentials = cluster.clients_dir / f"{principal}.env"
    return subprocess.run(
        [sys.executable, "-m", "tienda.ops", "--kafka-env", str(credentials), *arguments],
        capture_output=True,
        text=True,
        env=env | {"COLUMNS": "200"},
        timeout=120,
        check=False,
    )


def test_the_operator_cli_checks_the_topics_and_shows_and_applies_the_acls(secured_cluster):
    check = ops(secured_cluster, "operators", "topics", "check")
    shown = CliRunner().invoke(app, ["acls", "show"])
    applied = ops(secured_cluster, "admin", "acls", "apply")
    refused = ops(secured_cluster, "operators", "acls", "apply")

    assert check.returncode == 0, check.stdout + check.stderr
    assert "every topic is as the registry declares" in check.stdout
    assert "tienda.payments.received" in check.stdout
    assert shown.exit_code == 0, shown.output
    assert "User:store" in shown.stdout
    assert f"{len(planned_acls())} ACLs" in shown.stdout
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "created 0 ACL(s)" in applied.stdout
    assert refused.returncode != 0
    assert "CLUSTER_AUTHORIZATION_FAILED" in refused.stdout + refused.stderr
