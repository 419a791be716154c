"""The three workers as real processes on the real broker, each with its own database."""

import asyncio
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tienda.devkit.workers import SERVICES, WorkerProcess, worker_env
from tienda.messaging.connection import Kafka, connection_of
from tienda.messaging.provisioning import ensure_topics

TOKEN = "e2e-token"


class Workers(dict[str, WorkerProcess]):
    def get_json(self, service: str, path: str) -> dict:
        return self[service].get(path, TOKEN)


def start_workers(
    kafka: Kafka,
    data_dir: Path,
    database_urls: dict[str, str] | None = None,
    security: Callable[[str], dict[str, str]] = lambda service: {},
) -> Workers:
    """The three workers on their own databases; ``security`` gives each its Kafka credentials."""
    connection = connection_of(kafka)
    asyncio.run(ensure_topics(connection))
    workers = Workers()
    for service in SERVICES:
        url = (database_urls or {}).get(service) or f"sqlite+aiosqlite:///{data_dir / service}.db"
        env = worker_env(
            service,
            connection.bootstrap_servers,
            url,
            api_tokens=f'{{"{TOKEN}": ["*"]}}',
            log_json="false",
            heartbeat_seconds="2",
        )
        workers[service] = WorkerProcess(service, env | security(service), data_dir / f"{service}.log")
    try:
        for worker in workers.values():
            worker.start(wait=False)  # the three start side by side
        for worker in workers.values():
            worker.wait_ready(90)
    except Exception:
        stop_workers(workers)
        raise
    return workers


def stop_workers(workers: Workers) -> None:
    for worker in workers.values():
        worker.stop()


@pytest.fixture(scope="module")
def workers(bootstrap_servers: str) -> Iterator[Workers]:
    data_dir = Path(tempfile.mkdtemp(prefix="tienda-e2e-"))
    workers = start_workers(bootstrap_servers, data_dir)
    yield workers
    stop_workers(workers)
    for worker in workers.values():
        print(f"--- {worker.service} log tail ---\n{worker.log_tail(15)}")
