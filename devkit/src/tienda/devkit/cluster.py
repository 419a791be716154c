"""A local Kafka cluster of several KRaft nodes from the same Maven jars, secured like production.

Each node is broker and controller (a quorum of three voters). With ``secure``:

- clients and brokers talk SASL_SSL on one listener per node, with a CA made on the spot
  (``tls.py``); the controllers talk TLS with client certificates (the brokers' own);
- a SCRAM user (SCRAM-SHA-512 and -256, and PLAIN) for every principal of the topic
  registry and for ``admin``, written to the storage when it is formatted (``--add-scram``);
  passwords are random, kept in ``<data>/clients/``, readable by their owner only;
- ``StandardAuthorizer``: nothing is allowed without an ACL, except to the super users
  (``admin`` and the brokers' certificate); ``provision()`` applies the registry's ACLs.

Replication factor ``min(3, brokers)``, ``min.insync.replicas`` ``min(2, brokers)``, for
Tienda's topics and Kafka's internal ones.

Library use::

    cluster = LocalKafkaCluster(tmp_path, brokers=3, secure=True)
    cluster.start(); cluster.provision()
    connect(cluster.connection("store"))
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import secrets
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from confluent_kafka.admin import AdminClient

from tienda.contracts.topics import principals, topics_consumed_by, topics_produced_by
from tienda.devkit.kafka import (
    HOST,
    KAFKA_VERSION,
    REPO_ROOT,
    KafkaStartError,
    LocalKafka,
    _random_cluster_id,
    _require_tool,
    stop_on_signals,
)
from tienda.devkit.tls import CertificateAuthority, Issued, create_ca
from tienda.devkit.workers import kafka_env
from tienda.messaging.connection import KafkaConnection, SaslMechanism, SecurityProtocol
from tienda.messaging.provisioning import TopicLayout, ensure_topics
from tienda.ops.acls import apply_acls

DEFAULT_CLUSTER_DIR = REPO_ROOT / ".data" / "kafka-cluster"
DEFAULT_CLUSTER_PORT = 19092
ADMIN = "admin"
BROKER_PRINCIPAL = "CN=tienda-broker"
SCRAM = ("SCRAM-SHA-512", "SCRAM-SHA-256")
_QUIET = logging.getLogger("tienda.devkit.cluster.librdkafka")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False


class ClusterNode(LocalKafka):
    """One node of the cluster: the single-node launcher with the cluster's properties and storage."""

    def __init__(self, cluster: LocalKafkaCluster, node_id: int, port: int | None) -> None:
        super().__init__(cluster.data_dir / f"node-{node_id}", port=port, heap=cluster.heap)
        self.node_id = node_id
        self.cluster = cluster

    def __repr__(self) -> str:
        return f"ClusterNode({self.node_id}, {self.bootstrap_servers}, pid={self.pid})"

    def _write_properties(self) -> None:
        text = "".join(f"{key}={value}\n" for key, value in self.cluster.node_properties(self).items())
        self.properties_file.write_text("# Written by tienda.devkit.cluster; rewritten on every start.\n" + text)
        self.properties_file.chmod(0o600)  # the inter-broker password and the PLAIN users are in it

    def _cluster_id(self) -> str:
        return self.cluster.cluster_id

    def _format_arguments(self) -> list[str]:
        return self.cluster.scram_arguments()

    def _wait_ready(self, timeout: float) -> None:
        """A node alone is not ready: the cluster waits for its quorum and its brokers."""

    def _java_command(self, java: str, libs: Path, heap: str) -> list[str]:
        command = super()._java_command(java, libs, heap)
        return [command[0], *self.cluster.jvm_options, *command[1:]]


class LocalKafkaCluster:
    """``brokers`` KRaft nodes on 127.0.0.1 with their data, TLS material and users in ``data_dir``."""

    def __init__(
        self, data_dir: Path, brokers: int = 3, secure: bool = True, heap: str = "256m", port: int | None = None
    ) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.secure = secure
        self.heap = heap
        # The client JIT only: a node starts with about half the CPU (measured here, 2 cores), which
        # the three nodes starting at once on a small machine need more than peak throughput.
        self.jvm_options: list[str] = ["-XX:TieredStopAtLevel=1"]
        self.replication_factor = min(3, brokers)
        self.min_insync_replicas = min(2, brokers)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.cluster_id = self._kept("cluster.id", _random_cluster_id)
        self.nodes = [ClusterNode(self, n, port + n - 1 if port else None) for n in range(1, brokers + 1)]
        self.passwords: dict[str, str] = {}
        self.ca: CertificateAuthority | None = None
        self._broker_keystore: Issued | None = None

    # ----------------------------------------------------------------- what clients need

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(node.bootstrap_servers for node in self.nodes)

    @property
    def clients_dir(self) -> Path:
        return self.data_dir / "clients"

    def connection(self, principal: str = ADMIN, password: str | None = None) -> KafkaConnection:
        """How ``principal`` connects (SCRAM-SHA-512 over TLS when secure); ``password`` to try another."""
        if not self.secure:
            return KafkaConnection(bootstrap_servers=self.bootstrap_servers)
        assert self.ca is not None, "start the cluster first"
        return KafkaConnection(
            bootstrap_servers=self.bootstrap_servers,
            security_protocol=SecurityProtocol.SASL_SSL,
            sasl_mechanism=SaslMechanism.SCRAM_SHA_512,
            sasl_username=principal,
            sasl_password=password if password is not None else self.passwords[principal],
            ssl_ca_file=self.ca.certificate,
        )

    def worker_env(self, service: str) -> dict[str, str]:
        """The environment that connects worker ``service`` as its own principal."""
        prefix = f"TIENDA_{service.upper()}_"
        return {prefix + key: value for key, value in kafka_env(self.connection(service)).items()} | {
            f"{prefix}KAFKA_REPLICATION_FACTOR": str(self.replication_factor),
            f"{prefix}KAFKA_MIN_INSYNC_REPLICAS": str(self.min_insync_replicas),
        }

    # ----------------------------------------------------------------- lifecycle

    def start(self, timeout: float = 120) -> str:
        """Start every node, wait until all are brokers of one cluster; the bootstrap servers."""
        _require_tool("java", "install a JDK 17+ (apt-get install openjdk-17-jre-headless)", KafkaStartError)
        if self.secure:
            self._prepare_security()
        failures: list[BaseException] = []

        def start_node(node: ClusterNode) -> None:
            try:
                node.start()
            except BaseException as error:  # noqa: BLE001 - reported below, with every node's log
                failures.append(error)

        threads = [threading.Thread(target=start_node, args=(node,)) for node in self.nodes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if failures:
            self.stop()
            raise failures[0]
        self.wait_ready(timeout)
        return self.bootstrap_servers

    def provision(self) -> list[str]:
        """Create Tienda's topics (replication factor and min.insync.replicas of this cluster) and,
        when secure, apply the registry's ACLs; the topics created."""
        layout = TopicLayout(self.replication_factor, self.min_insync_replicas)
        created = asyncio.run(ensure_topics(self.connection(), layout=layout))
        if self.secure:
            apply_acls(self.connection())
            self._wait_for_acls()
        return created

    def _wait_for_acls(self, timeout: float = 60) -> None:
        """Until every broker authorizes by the new ACLs: each applies the metadata log on its own
        time, and a client that comes at once may meet one that does not know them yet. Seen
        through the advisor's eyes: a broker lists it the topics it may use once it has them."""
        wanted = {topic.name for topic in (*topics_consumed_by("advisor"), *topics_produced_by("advisor"))}
        deadline = time.monotonic() + timeout
        for node in self.nodes:
            config = self.connection("advisor").replace(bootstrap_servers=node.bootstrap_servers).librdkafka_config()
            # A new client each time: its first metadata request goes to its one bootstrap server.
            while not wanted <= set(AdminClient(config, logger=_QUIET).list_topics(timeout=10).topics):
                if time.monotonic() > deadline:
                    self._fail(f"node {node.node_id} did not apply the ACLs within {timeout:g} s")
                time.sleep(0.1)

    def stop(self) -> None:
        """Stop every node at once: one by one, the last ones would wait for a quorum that is gone."""
        threads = [threading.Thread(target=node.stop) for node in self.nodes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def node(self, node_id: int) -> ClusterNode:
        return next(node for node in self.nodes if node.node_id == node_id)

    def wait_ready(self, timeout: float = 120, fully_replicated: bool = False) -> None:
        """Until every node is a live broker (and, if asked, every partition's replicas are in sync)."""
        deadline = time.monotonic() + timeout
        admin = self._admin()
        wanted = {node.node_id for node in self.nodes}
        while time.monotonic() < deadline:
            for node in self.nodes:
                if not node.running:
                    self._fail(f"node {node.node_id} exited while the cluster was starting")
            try:
                metadata = admin.list_topics(timeout=2)
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.2)
                continue
            live = set(metadata.brokers)
            if wanted <= live and (not fully_replicated or _in_sync(metadata)):
                return
            time.sleep(0.2)
        self._fail(f"the cluster was not {'fully replicated' if fully_replicated else 'ready'} within {timeout:g} s")

    def leaders(self, prefix: str = "tienda.") -> Counter[int]:
        """How many partitions of the topics named ``prefix...`` each node leads."""
        metadata = self._admin().list_topics(timeout=10)
        return Counter(
            partition.leader
            for name, topic in metadata.topics.items()
            if name.startswith(prefix)
            for partition in topic.partitions.values()
        )

    def led_by_live_nodes(self, prefix: str = "tienda.") -> bool:
        """Whether every partition of those topics has a leader among the running nodes."""
        live = {node.node_id for node in self.nodes if node.running}
        metadata = self._admin().list_topics(timeout=5)
        return all(
            partition.leader in live
            for name, topic in metadata.topics.items()
            if name.startswith(prefix)
            for partition in topic.partitions.values()
        )

    def _admin(self) -> AdminClient:
        """An admin client as ``admin``; librdkafka's complaints about nodes that are down (expected
        while starting, or after a kill) go to a logger that drops them unless configured."""
        config = self.connection().librdkafka_config() | {"socket.connection.setup.timeout.ms": "2000"}
        return AdminClient(config, logger=_QUIET)

    def rss_mib(self) -> dict[int, float]:
        """Resident memory of each running node's JVM, MiB."""
        return {node.node_id: _rss_mib(node.pid) for node in self.nodes if node.pid is not None and node.running}

    def summary(self, seconds: float, created: list[str]) -> str:
        """What `start` prints: where the brokers are and how to connect."""
        security = "SASL_SSL (SCRAM-SHA-512/256, PLAIN), ACLs of the topic registry" if self.secure else "PLAINTEXT"
        lines = [
            f"Kafka {KAFKA_VERSION} cluster of {len(self.nodes)} brokers ready in {seconds:.1f} s: {security}; "
            f"replication factor {self.replication_factor}, min.insync.replicas {self.min_insync_replicas}",
            f"bootstrap servers: {self.bootstrap_servers}",
            f"topics: {len(created)} created",
        ]
        if self.secure and self.ca is not None:
            lines += [
                f"client properties: {self.clients_dir / (ADMIN + '.properties')} (admin, a super user)",
                f"  every principal ({', '.join(principals())}) has {self.clients_dir}/<name>.properties "
                "(Kafka's tools), <name>.env (tienda-ops --kafka-env) and <name>.kcat (kcat -F)",
                f"CA certificate: {self.ca.certificate}",
            ]
        lines.append("logs: " + ", ".join(str(node.log_file) for node in self.nodes))
        return "\n".join(lines)

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(f"=== node {node.node_id} ===\n{node.log_tail(lines)}" for node in self.nodes)

    # ----------------------------------------------------------------- configuration

    def node_properties(self, node: ClusterNode) -> dict[str, str]:
        voters = ",".join(f"{n.node_id}@{HOST}:{n.controller_port}" for n in self.nodes)
        protocol = "SASL_SSL" if self.secure else "PLAINTEXT"
        controller_protocol = "SSL" if self.secure else "PLAINTEXT"
        settings = {
            "process.roles": "broker,controller",
            "node.id": str(node.node_id),
            "controller.quorum.voters": voters,
            "listeners": f"BROKER://{HOST}:{node.port},CONTROLLER://{HOST}:{node.controller_port}",
            "advertised.listeners": f"BROKER://{HOST}:{node.port}",
            "listener.security.protocol.map": f"BROKER:{protocol},CONTROLLER:{controller_protocol}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "BROKER",
            "log.dirs": str(node.log_dir),
            "num.partitions": "6",
            "default.replication.factor": str(self.replication_factor),
            "min.insync.replicas": str(self.min_insync_replicas),
            "auto.create.topics.enable": "false",
            "offsets.topic.replication.factor": str(self.replication_factor),
            "offsets.topic.num.partitions": "6",
            "transaction.state.log.replication.factor": str(self.replication_factor),
            "transaction.state.log.min.isr": str(self.min_insync_replicas),
            "transaction.state.log.num.partitions": "6",
            "share.coordinator.state.topic.replication.factor": str(self.replication_factor),
            "share.coordinator.state.topic.min.isr": str(self.min_insync_replicas),
            "group.initial.rebalance.delay.ms": "0",
            # A killed broker is fenced, and its partitions led elsewhere, after this (default 9 s).
            "broker.session.timeout.ms": "3000",
            "broker.heartbeat.interval.ms": "500",
            "num.network.threads": "2",
            "num.io.threads": "2",
            "num.replica.fetchers": "1",
            "log.cleaner.dedupe.buffer.size": str(8 * 1024 * 1024),
        }
        return settings | (self._security_properties() if self.secure else {})

    def _security_properties(self) -> dict[str, str]:
        assert self.ca is not None
        assert self._broker_keystore is not None
        scram = "org.apache.kafka.common.security.scram.ScramLoginModule required"
        plain_users = " ".join(f'user_{name}="{password}"' for name, password in self.passwords.items())
        admin_login = f'username="{ADMIN}" password="{self.passwords[ADMIN]}"'
        return {
            "sasl.enabled.mechanisms": "SCRAM-SHA-512,SCRAM-SHA-256,PLAIN",
            "sasl.mechanism.inter.broker.protocol": "SCRAM-SHA-512",
            "listener.name.broker.scram-sha-512.sasl.jaas.config": f"{scram} {admin_login};",
            "listener.name.broker.scram-sha-256.sasl.jaas.config": f"{scram};",
            "listener.name.broker.plain.sasl.jaas.config": (
                f"org.apache.kafka.common.security.plain.PlainLoginModule required {admin_login} {plain_users};"
            ),
            "ssl.keystore.type": "PEM",
            "ssl.keystore.location": str(self._broker_keystore.keystore),
            "ssl.truststore.type": "PEM",
            "ssl.truststore.location": str(self.ca.certificate),
            "listener.name.controller.ssl.client.auth": "required",
            "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "allow.everyone.if.no.acl.found": "false",
            "super.users": f"User:{ADMIN};User:{BROKER_PRINCIPAL}",
        }

    def scram_arguments(self) -> list[str]:
        """StorageTool's ``--add-scram`` for every user and both SCRAM mechanisms."""
        return [
            argument
            for name, password in self.passwords.items()
            for mechanism in SCRAM
            for argument in ("--add-scram", f"{mechanism}=[name={name},password={password}]")
        ]

    def _prepare_security(self) -> None:
        """The CA, the brokers' certificate and every user's password: made once per data directory."""
        tls = self.data_dir / "tls"
        if (tls / "ca.pem").is_file():
            self.ca = CertificateAuthority(tls / "ca.pem", tls / "ca.key")
        else:
            self.ca = create_ca(tls)
        keystore = tls / "broker.keystore.pem"
        self._broker_keystore = (
            self.ca.issue("broker", "tienda-broker", (HOST, "localhost"))
            if not keystore.is_file()
            else _issued(tls, "broker")
        )
        users = self.clients_dir / "passwords.json"
        if users.is_file():
            self.passwords = json.loads(users.read_text())
        else:
            self.passwords = {name: secrets.token_hex(16) for name in (ADMIN, *principals())}
            self.clients_dir.mkdir(parents=True, exist_ok=True)
            users.write_text(json.dumps(self.passwords, indent=2))
            users.chmod(0o600)
        self._write_client_files()

    def _write_client_files(self) -> None:
        """For each user: Java client properties (Kafka's tools), an env file (Tienda's tools) and a
        librdkafka file (kcat -F)."""
        for name in self.passwords:
            connection = self.connection(name)
            files = {
                f"{name}.properties": _java_properties(connection),
                f"{name}.env": "".join(f"{key}={value}\n" for key, value in kafka_env(connection).items()),
                f"{name}.kcat": _kcat_config(connection),
            }
            for file_name, text in files.items():
                path = self.clients_dir / file_name
                path.write_text(text)
                path.chmod(0o600)

    def _kept(self, name: str, make: Callable[[], str]) -> str:
        """A value made once per data directory and kept in a file of it."""
        path = self.data_dir / name
        if not path.is_file():
            path.write_text(make())
        return path.read_text().strip()

    def _fail(self, reason: str) -> None:
        tail = self.log_tail(25)
        self.stop()
        raise KafkaStartError(f"{reason} ({self.bootstrap_servers}, data {self.data_dir}).\n{tail}")


def _issued(directory: Path, name: str) -> Issued:
    return Issued(directory / f"{name}.pem", directory / f"{name}.key", directory / f"{name}.keystore.pem")


def _in_sync(metadata: object) -> bool:
    topics = metadata.topics.values()  # type: ignore[attr-defined]
    return all(
        partition.leader >= 0 and len(partition.isrs) == len(partition.replicas)
        for topic in topics
        for partition in topic.partitions.values()
    )


def _kcat_config(connection: KafkaConnection) -> str:
    """librdkafka properties for ``kcat -F``. PLAIN (over TLS) rather than SCRAM: librdkafka before
    2.6.1 (Debian's kcat has 2.0.2) computes a SCRAM proof that Kafka 4 refuses (librdkafka#4895)."""
    if connection.security_protocol.uses_sasl:
        connection = connection.replace(sasl_mechanism=SaslMechanism.PLAIN)
    lines = [f"{key}={value}" for key, value in connection.librdkafka_config().items()]
    return (
        "# PLAIN: Debian's kcat (librdkafka 2.0.2) cannot do SCRAM with Kafka 4 (librdkafka#4895)\n"
        + "\n".join(lines)
        + "\n"
    )


def _java_properties(connection: KafkaConnection) -> str:
    """A client properties file as Kafka's own tools take it (``--command-config``)."""
    lines = [f"bootstrap.servers={connection.bootstrap_servers}", f"security.protocol={connection.security_protocol}"]
    if connection.security_protocol.uses_sasl:
        module = "scram.ScramLoginModule" if connection.sasl_mechanism != "PLAIN" else "plain.PlainLoginModule"
        lines += [
            f"sasl.mechanism={connection.sasl_mechanism}",
            f"sasl.jaas.config=org.apache.kafka.common.security.{module} required "
            f'username="{connection.sasl_username}" password="{connection.sasl_password.get_secret_value()}";',
        ]
    if connection.ssl_ca_file is not None:
        lines += ["ssl.truststore.type=PEM", f"ssl.truststore.location={connection.ssl_ca_file}"]
    return "\n".join(lines) + "\n"


def _rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def serve_cluster(args: argparse.Namespace) -> int:
    """`python -m tienda.devkit.kafka start --brokers 3 [--secure]`: run until Ctrl-C or a node dies."""
    stop_requested = stop_on_signals()
    cluster = LocalKafkaCluster(
        args.data_dir or DEFAULT_CLUSTER_DIR,
        brokers=args.brokers,
        secure=args.secure,
        heap=args.heap or "256m",
        port=DEFAULT_CLUSTER_PORT if args.port is None else (args.port or None),  # 0: free ports
    )
    try:
        began = time.monotonic()
        cluster.start(args.timeout or 180)
        created = cluster.provision()
        print(cluster.summary(time.monotonic() - began, created), flush=True)
        while not stop_requested.wait(0.5):
            for node in cluster.nodes:
                if not node.running:
                    print(f"node {node.node_id} died unexpectedly.\n{node.log_tail()}", file=sys.stderr, flush=True)
                    return 1
        return 0
    finally:
        cluster.stop()
