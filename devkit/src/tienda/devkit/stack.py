"""`python -m tienda.devkit.stack`: the whole of Tienda on one machine.

A real Kafka broker (Apache Kafka's own jars, or ``KAFKA_BOOTSTRAP_SERVERS`` when
set), the topics of the registry, and the three workers on their embedded SQLite
defaults. Says where logs and endpoints are; Ctrl-C stops everything it started.

``--cluster`` (``make run-cluster``): production's shape instead. A secured three-broker
cluster (``tienda.devkit.cluster``: SASL_SSL, SCRAM users, the registry's ACLs, replication
factor 3, min.insync.replicas 2), PostgreSQL (``tienda.devkit.postgres``) with a database
per service, and each worker connecting as its own principal. Its data stays in
``.data/cluster`` from one run to the next.
"""

import argparse
import asyncio
import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType

from tienda.devkit.cluster import DEFAULT_CLUSTER_PORT, LocalKafkaCluster
from tienda.devkit.kafka import KafkaError, LocalKafka
from tienda.devkit.postgres import LocalPostgres, PostgresError
from tienda.devkit.workers import SERVICES, WorkerProcess, WorkerStartError, worker_env
from tienda.messaging.provisioning import ensure_topics

DEFAULT_PORTS = {"store": 8081, "billing": 8082, "advisor": 8083}
DEV_TOKEN = "dev-token"  # noqa: S105 - a local development token, printed for the user
DEV_EXECUTIVES = (
    '[{"id": "ej-paula", "name": "Paula Fuentes", "email": "paula.fuentes@tienda.example"},'
    ' {"id": "ej-matias", "name": "Matías Soto", "email": "matias.soto@tienda.example"}]'
)


class Stack:
    """The broker (or the secured cluster and PostgreSQL) and the workers, started in order and
    stopped in reverse."""

    def __init__(self, data_dir: Path, kafka_port: int, bootstrap_servers: str | None, cluster: bool = False) -> None:
        self.data_dir = data_dir
        self.cluster = LocalKafkaCluster(data_dir / "cluster" / "kafka", port=kafka_port) if cluster else None
        self.postgres = LocalPostgres(data_dir / "cluster" / "postgres") if cluster else None
        local = not (bootstrap_servers or cluster)
        self.kafka = LocalKafka(data_dir / "kafka", port=kafka_port) if local else None
        self.bootstrap_servers = bootstrap_servers or ""
        self.workers: list[WorkerProcess] = []

    def start(self) -> None:
        started = time.monotonic()
        if self.kafka:
            self.bootstrap_servers = self.kafka.start(timeout=90)
            print(f"kafka     {self.bootstrap_servers}   log {self.kafka.log_file}", flush=True)
        if self.cluster:
            self._start_cluster()
        else:
            self._provision()
        for service in SERVICES:
            self._start_worker(service)
        print(
            f"up in {time.monotonic() - started:.1f}s. Read endpoints take 'Authorization: Bearer {DEV_TOKEN}'. "
            "Ctrl-C stops everything.",
            flush=True,
        )

    def _provision(self) -> None:
        created = asyncio.run(ensure_topics(self.bootstrap_servers))
        print(f"topics    {len(created)} created", flush=True)

    def _start_cluster(self) -> None:
        assert self.cluster is not None
        assert self.postgres is not None
        began = time.monotonic()
        self.bootstrap_servers = self.cluster.start()
        created = self.cluster.provision()
        print(self.cluster.summary(time.monotonic() - began, created), flush=True)
        self.postgres.start()
        print(f"postgres  {self.postgres.url_base}   log {self.postgres.log_file}", flush=True)

    def _database(self, service: str) -> str:
        if self.postgres is None:
            return f"sqlite+aiosqlite:///{(self.data_dir / service).resolve()}.db"
        try:
            return self.postgres.create_database(service)
        except PostgresError as error:
            if "already exists" not in str(error):
                raise
            return self.postgres.url(service)

    def _start_worker(self, service: str) -> None:
        env = worker_env(
            service, self.bootstrap_servers, self._database(service), api_tokens=f'{{"{DEV_TOKEN}": ["*"]}}'
        )
        if self.cluster:
            env |= self.cluster.worker_env(service)
        if service == "advisor":
            env["TIENDA_ADVISOR_EXECUTIVES"] = DEV_EXECUTIVES
        env |= {key: value for key, value in os.environ.items() if key.startswith(f"TIENDA_{service.upper()}_")}
        worker = WorkerProcess(service, env, self.data_dir / "logs" / f"{service}.log", DEFAULT_PORTS[service])
        self.workers.append(worker)
        worker.start()
        print(f"{service:<9} {worker.url}/health/ready   log {worker.log_path}", flush=True)

    def stop(self) -> None:
        for worker in reversed(self.workers):
            worker.stop()
        if self.kafka:
            self.kafka.stop()
        if self.cluster:
            self.cluster.stop()
        if self.postgres:
            self.postgres.stop()
        print("stopped: no worker or broker left running", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=Path(".data"), help="databases, logs, broker data")
    parser.add_argument("--kafka-port", type=int, default=None, help="9092; with --cluster, 19092 and the next two")
    parser.add_argument(
        "--cluster", action="store_true", help="a secured 3-broker cluster and PostgreSQL instead (make run-cluster)"
    )
    args = parser.parse_args()
    port = args.kafka_port or (DEFAULT_CLUSTER_PORT if args.cluster else 9092)
    external = None if args.cluster else os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    stack = Stack(args.data_dir, port, external, cluster=args.cluster)

    interrupted = False

    def interrupt(_signum: int, _frame: FrameType | None) -> None:
        # Once: a second Ctrl-C or SIGTERM (uv forwards one, `timeout` sends one) must not cut
        # the stop short, which left workers running after the stack had exited.
        nonlocal interrupted
        if not interrupted:
            interrupted = True
            raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)
    try:
        stack.start()
        while all(worker.running() for worker in stack.workers):
            time.sleep(0.5)
        print("a worker exited on its own; see its log. Stopping the rest.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    except (KafkaError, PostgresError, WorkerStartError) as error:
        print(error, file=sys.stderr)
        return 1
    finally:
        interrupted = True
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
