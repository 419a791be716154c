"""Real infrastructure for the suite: one Kafka broker and one PostgreSQL server per run, and
the secured three-broker cluster for the tests of ``tests/cluster`` (its conftest).

Kafka, in this order: ``KAFKA_BOOTSTRAP_SERVERS`` if set; testcontainers' Kafka if a
Docker engine answers; else Apache Kafka's own jars started by ``tienda.devkit.kafka``.
The secured cluster always comes from the jars (``tienda.devkit.cluster``).
A test that needs a broker or PostgreSQL and cannot get one fails; it never skips.
"""

import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests import figures
from tienda.devkit.kafka import KafkaStartError, LocalKafka
from tienda.devkit.postgres import LocalPostgres, PostgresError
from tienda.messaging.database import create_engine

pytest_plugins = ["tests.stopping"]


def docker_engine_answers() -> bool:
    """Whether a Docker engine (not just the client) is reachable."""
    try:
        import docker  # noqa: PLC0415 - only where testcontainers may be used

        client = docker.from_env(timeout=3)
        return bool(client.ping())
    except Exception:
        return False


class KafkaUnderTest:
    """The broker the suite runs against, and how to stop it."""

    def __init__(self) -> None:
        self.local: LocalKafka | None = None
        self._container: object | None = None
        self.bootstrap_servers = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "")

    def start(self) -> None:
        if self.bootstrap_servers:
            return
        if docker_engine_answers():
            from testcontainers.kafka import KafkaContainer  # noqa: PLC0415

            container = KafkaContainer().with_kraft()
            container.start()
            self._container = container
            self.bootstrap_servers = container.get_bootstrap_server()
            return
        self.local = LocalKafka(Path(tempfile.mkdtemp(prefix="tienda-kafka-")))
        self.bootstrap_servers = self.local.start(timeout=90)

    def restart(self) -> None:
        """Stop and start the broker on the same port, keeping its data (the local broker only)."""
        if self.local is None:
            pytest.fail("restarting the broker needs the project's local Kafka; unset KAFKA_BOOTSTRAP_SERVERS")
        self.local.stop()
        self.local.start(timeout=90)

    def stop(self) -> None:
        if self.local:
            self.local.stop()
        if self._container is not None:
            self._container.stop()  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def kafka() -> Iterator[KafkaUnderTest]:
    """A running Kafka broker with Tienda's topics provisioned."""
    broker = KafkaUnderTest()
    try:
        broker.start()
    except KafkaStartError as error:
        pytest.fail(f"the Kafka broker did not start; its log ends with:\n{error}", pytrace=False)
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def bootstrap_servers(kafka: KafkaUnderTest) -> str:
    return kafka.bootstrap_servers


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The figures tests measured (cluster start, recovery times, memory), after the results."""
    if figures.FIGURES:
        terminalreporter.section("figures")
        for name, value in figures.FIGURES:
            terminalreporter.write_line(f"{name}: {value}")


@pytest.fixture(scope="session")
def postgres() -> Iterator[LocalPostgres]:
    """A PostgreSQL server of Debian's packages in a temporary directory."""
    server = LocalPostgres()
    try:
        server.start()
    except PostgresError as error:
        pytest.fail(f"PostgreSQL did not start:\n{error}", pytrace=False)
    yield server
    server.stop(mode="immediate")  # thrown away next: no shutdown checkpoint (it can take > 30 s on a busy disk)
    server.cleanup()


def sqlite_url(directory: Path) -> str:
    return f"sqlite+aiosqlite:///{directory / 'tienda.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database of each backend: the same tests run on both."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    server: LocalPostgres = request.getfixturevalue("postgres")
    return server.create_database(f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()
