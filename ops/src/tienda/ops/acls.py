"""Kafka ACLs generated from the topic registry (``contracts/topics.py``), applied through
Kafka's Admin API (librdkafka's client, confluent-kafka): who may read and write what.

- A service (store, billing, advisor) reads the topics it consumes in its own consumer group
  ``tienda-<service>``, and writes the topics it publishes, which include its dead-letter
  topic and the operations topics. It may read the configuration of the topics it uses,
  which its start-up check compares with the registry.
- An upstream system (erp-web, payment-gateway, indicator-feed, crm, executive-tools) writes
  only the topics the registry says it produces, and reads those it consumes, in consumer
  groups whose names begin with its own.
- ``operators`` read every ``tienda.`` topic and its configuration, look at the services'
  consumer groups, and write the topics the services consume: that is where a replayed
  dead letter goes back to. Replay needs it, and it means an operator can publish on those
  topics; give people who only look a principal with the read rules alone.

No principal gets Create, Alter or cluster rights: topics and ACLs are made by an
administrator (a super user). No one needs IdempotentWrite: since Kafka 3.0 an idempotent
producer needs only Write on the topics it sends to (checked against the real broker by
the secured cluster's tests).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
)

from tienda.contracts.topics import SERVICES, TOPICS, principals, topics_consumed_by, topics_produced_by
from tienda.messaging.connection import KafkaConnection

OPERATORS = "operators"
TOPIC_PREFIX = "tienda."
CLUSTER = "kafka-cluster"


@dataclass(frozen=True, order=True)
class Acl:
    """One ALLOW rule: ``principal`` may do ``operation`` on a resource (a name, or names with a prefix)."""

    principal: str
    resource: str  # topic, group, cluster
    name: str
    operation: str  # READ, WRITE, DESCRIBE, DESCRIBE_CONFIGS
    pattern: str = "literal"  # or prefixed
    why: str = field(default="", compare=False)

    def binding(self) -> AclBinding:
        return AclBinding(
            ResourceType[_RESOURCE_TYPES[self.resource]],
            self.name,
            ResourcePatternType[self.pattern.upper()],
            f"User:{self.principal}",
            "*",
            AclOperation[self.operation],
            AclPermissionType.ALLOW,
        )


_RESOURCE_TYPES = {"topic": "TOPIC", "group": "GROUP", "cluster": "BROKER"}


def planned_acls() -> list[Acl]:
    """Every rule the registry implies, sorted by principal."""
    rules: set[Acl] = set()
    for principal in principals():
        if principal in SERVICES:
            rules |= _service_rules(principal)
        elif principal == OPERATORS:
            rules |= _operator_rules()
        else:
            rules |= _upstream_rules(principal)
    return sorted(rules)


def _service_rules(service: str) -> set[Acl]:
    consumed, produced = topics_consumed_by(service), topics_produced_by(service)
    rules = {Acl(service, "topic", topic.name, "READ", why="consumes it") for topic in consumed}
    rules.add(Acl(service, "group", f"tienda-{service}", "READ", why="its consumer group"))
    rules |= {Acl(service, "topic", topic.name, "WRITE", why="publishes on it") for topic in produced}
    rules |= {
        Acl(service, "topic", topic.name, "DESCRIBE_CONFIGS", why="checks it against the registry at start")
        for topic in (*consumed, *produced)
    }
    return rules


def _upstream_rules(system: str) -> set[Acl]:
    rules = {Acl(system, "topic", topic.name, "WRITE", why="publishes on it") for topic in topics_produced_by(system)}
    consumed = [topic for topic in TOPICS if system in topic.consumers]
    rules |= {Acl(system, "topic", topic.name, "READ", why="consumes it") for topic in consumed}
    if consumed:
        rules.add(Acl(system, "group", system, "READ", "prefixed", why="its consumer groups"))
    return rules


def _operator_rules() -> set[Acl]:
    replayable = {topic.name for service in SERVICES for topic in topics_consumed_by(service)}
    return {
        Acl(OPERATORS, "topic", TOPIC_PREFIX, "READ", "prefixed", why="reads every topic"),
        Acl(OPERATORS, "topic", TOPIC_PREFIX, "DESCRIBE_CONFIGS", "prefixed", why="`topics check`"),
        Acl(OPERATORS, "group", "tienda-", "DESCRIBE", "prefixed", why="the services' consumer lag"),
        Acl(OPERATORS, "cluster", CLUSTER, "DESCRIBE_CONFIGS", why="the cluster's default replication factor"),
        *(
            Acl(OPERATORS, "topic", name, "WRITE", why="dead-letter replay sends messages back here")
            for name in replayable
        ),
    }


@dataclass(frozen=True)
class AclChanges:
    created: list[Acl]
    already_there: list[Acl]
    extra: list[str]
    """Rules on the cluster for Tienda's principals that the registry no longer implies."""
    removed: list[str]


def apply_acls(connection: KafkaConnection, acls: Iterable[Acl] | None = None, prune: bool = False) -> AclChanges:
    """Create the planned rules that are missing; with ``prune``, delete the rules of Tienda's
    principals that the plan does not hold. Needs a principal allowed to alter ACLs."""
    wanted = list(planned_acls() if acls is None else acls)
    admin = AdminClient(connection.librdkafka_config())
    existing = _tienda_bindings(admin)
    missing = [acl for acl in wanted if _key(acl.binding()) not in existing]
    if missing:
        for future in admin.create_acls([acl.binding() for acl in missing], request_timeout=30).values():
            future.result()
    planned = {_key(acl.binding()) for acl in wanted}
    extra = {key: binding for key, binding in existing.items() if key not in planned}
    removed: list[str] = []
    if prune and extra:
        filters = [_exact_filter(binding) for binding in extra.values()]
        for future in admin.delete_acls(filters, request_timeout=30).values():
            future.result()
        removed = sorted(map(_describe, extra.values()))
    return AclChanges(
        missing, [acl for acl in wanted if acl not in missing], sorted(map(_describe, extra.values())), removed
    )


def _tienda_bindings(admin: AdminClient) -> dict[tuple[str, ...], AclBinding]:
    everything = AclBindingFilter(
        ResourceType.ANY,
        None,  # type: ignore[arg-type]  # None matches any name, principal, host
        ResourcePatternType.ANY,
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        AclOperation.ANY,
        AclPermissionType.ANY,
    )
    ours = {f"User:{principal}" for principal in principals()}
    bindings = admin.describe_acls(everything, request_timeout=30).result()
    return {_key(binding): binding for binding in bindings if binding.principal in ours}


def _key(binding: AclBinding) -> tuple[str, ...]:
    """A binding as plain names (the library converts its arguments to enums)."""
    return (
        _named(binding.restype),
        binding.name,
        _named(binding.resource_pattern_type),
        binding.principal,
        binding.host,
        _named(binding.operation),
        _named(binding.permission_type),
    )


def _named(value: object) -> str:
    return str(getattr(value, "name", value))


def _exact_filter(binding: AclBinding) -> AclBindingFilter:
    return AclBindingFilter(
        binding.restype,
        binding.name,
        binding.resource_pattern_type,
        binding.principal,
        binding.host,
        binding.operation,
        binding.permission_type,
    )


def _describe(binding: AclBinding) -> str:
    restype, name, pattern, principal, _host, operation, permission = _key(binding)
    prefixed = " (prefixed)" if pattern == "PREFIXED" else ""
    return f"{principal} {permission} {operation} {restype.lower()} {name}{prefixed}"


def kafka_acls_commands(acls: Iterable[Acl], bootstrap_servers: str, command_config: str) -> list[str]:
    """The same rules as commands of Kafka's own tool (kafka-acls.sh), for those who prefer it."""
    commands = []
    for acl in acls:
        resource = {"topic": f"--topic {acl.name}", "group": f"--group {acl.name}", "cluster": "--cluster"}
        pattern = " --resource-pattern-type prefixed" if acl.pattern == "prefixed" else ""
        operation = "".join(part.title() for part in acl.operation.split("_"))
        commands.append(
            f"kafka-acls.sh --bootstrap-server {bootstrap_servers} --command-config {command_config} --add "
            f"--allow-principal User:{acl.principal} --operation {operation} {resource[acl.resource]}{pattern}"
        )
    return commands
