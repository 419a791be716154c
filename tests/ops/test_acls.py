"""The ACLs the topic registry implies: each principal gets what its role needs, nothing more."""

from tienda.contracts.topics import SERVICES, TOPICS, principals, topics_consumed_by, topics_produced_by
from tienda.ops.acls import Acl, kafka_acls_commands, planned_acls

RULES = planned_acls()


def rules_of(principal: str, operation: str | None = None, resource: str = "topic") -> set[str]:
    return {
        rule.name
        for rule in RULES
        if rule.principal == principal and rule.resource == resource and operation in (None, rule.operation)
    }


def test_a_service_reads_what_it_consumes_in_its_own_group_and_writes_what_it_publishes():
    assert rules_of("store", "READ") == {
        "tienda.activations.requested",
        "tienda.accounts.plans",
        "tienda.indicators.uf",
    }
    assert rules_of("store", "READ", "group") == {"tienda-store"}
    assert rules_of("store", "WRITE") == {
        "tienda.store.events",
        "tienda.store.plan-snapshots",
        "tienda.ops.alerts",
        "tienda.ops.outcomes",
        "tienda.ops.heartbeats",
        "tienda.deadletter.store",
    }
    for service in SERVICES:
        assert rules_of(service, "READ") == {topic.name for topic in topics_consumed_by(service)}
        assert rules_of(service, "WRITE") == {topic.name for topic in topics_produced_by(service)}


def test_an_upstream_system_writes_only_its_own_topics():
    assert rules_of("payment-gateway", "WRITE") == {"tienda.payments.received"}
    assert rules_of("erp-web", "WRITE") == {
        "tienda.activations.requested",
        "tienda.accounts.plans",
        "tienda.billing.requests",
        "tienda.advisor.requests",
    }
    assert "tienda.payments.received" not in rules_of("erp-web")
    assert rules_of("indicator-feed") == {"tienda.indicators.uf"}


def test_operators_read_everything_and_write_only_where_dead_letters_go_back():
    consumed_by_services = {topic.name for service in SERVICES for topic in topics_consumed_by(service)}
    assert Acl("operators", "topic", "tienda.", "READ", "prefixed") in RULES
    assert rules_of("operators", "WRITE") == consumed_by_services
    assert "tienda.advisor.events" not in consumed_by_services


def test_no_one_may_create_alter_or_act_on_the_cluster_and_every_principal_has_rules():
    assert {rule.operation for rule in RULES} == {"READ", "WRITE", "DESCRIBE", "DESCRIBE_CONFIGS"}
    assert {rule.principal for rule in RULES} == set(principals())
    assert all(any(t.name in rules_of(p) for p in principals()) for t in TOPICS)


def test_the_same_rules_as_kafka_acls_commands():
    [command] = kafka_acls_commands(
        [Acl("operators", "topic", "tienda.", "DESCRIBE_CONFIGS", "prefixed")], "b:9093", "admin.properties"
    )
    assert command == (
        "kafka-acls.sh --bootstrap-server b:9093 --command-config admin.properties --add "
        "--allow-principal User:operators --operation DescribeConfigs --topic tienda. --resource-pattern-type prefixed"
    )
