"""The secured three-broker cluster of these tests (``secured_cluster``) with the three workers
as processes on PostgreSQL, each connecting as its own principal."""

import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests import figures
from tests.e2e.conftest import Workers, start_workers, stop_workers
from tests.worker_database import Database
from tienda.devkit.cluster import LocalKafkaCluster
from tienda.devkit.kafka import KafkaError
from tienda.devkit.postgres import LocalPostgres
from tienda.devkit.workers import SERVICES
from tienda.messaging.database import READ_ONLY, create_engine


@pytest.fixture(scope="package")
def secured_cluster() -> Iterator[LocalKafkaCluster]:
    """Three KRaft brokers, SASL_SSL with SCRAM users for every principal, the registry's ACLs,
    replication factor 3 and min.insync.replicas 2, Tienda's topics: started once for this
    package's tests, only when a selected test asks for it, and stopped after its last one (three
    idle brokers left running would slow the rest of the suite). A test that stops brokers brings
    them back."""
    cluster = LocalKafkaCluster(Path(tempfile.mkdtemp(prefix="tienda-cluster-")), brokers=3, secure=True)
    began = time.monotonic()
    try:
        cluster.start(timeout=300)
        cluster.provision()
    except KafkaError as error:
        cluster.stop()
        pytest.fail(f"the secured Kafka cluster did not start:\n{error}", pytrace=False)
    figures.record("secured cluster: started, topics and ACLs applied", f"{time.monotonic() - began:.1f} s")
    yield cluster
    rss = cluster.rss_mib()
    figures.record("secured cluster: RSS of the brokers at the end", ", ".join(f"{m:.0f} MiB" for m in rss.values()))
    cluster.stop()


def databases(postgres: LocalPostgres) -> dict[str, str]:
    run = uuid.uuid4().hex[:8]
    return {service: postgres.create_database(f"{service}_{run}") for service in SERVICES}


@pytest.fixture(scope="module")
def database_urls(postgres: LocalPostgres) -> dict[str, str]:
    return databases(postgres)


@pytest.fixture(scope="module")
def secured_workers(secured_cluster: LocalKafkaCluster, database_urls: dict[str, str]) -> Iterator[Workers]:
    """store, billing and advisor on the secured cluster, each as its own principal, on PostgreSQL."""
    data_dir = Path(tempfile.mkdtemp(prefix="tienda-secured-"))
    began = time.monotonic()
    workers = start_workers(secured_cluster.connection(), data_dir, database_urls, secured_cluster.worker_env)
    figures.record("secured cluster: three workers on PostgreSQL ready", f"{time.monotonic() - began:.1f} s")
    yield workers
    stop_workers(workers)
    for worker in workers.values():
        print(f"--- {worker.service} log tail ---\n{worker.log_tail(15)}")


@pytest.fixture
async def database(database_urls: dict[str, str]) -> AsyncIterator[dict[str, Database]]:
    """A read-only look into each worker's database."""
    engines = {
        service: create_engine(url).execution_options(**{READ_ONLY: True}) for service, url in database_urls.items()
    }
    yield {service: Database(engine) for service, engine in engines.items()}
    for engine in engines.values():
        await engine.dispose()
