"""Runs one service: migrations, topics, the consumer, the outbox relay and the HTTP surface."""

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import APIRouter, FastAPI
from faststream.kafka import KafkaBroker
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tienda.contracts.asyncapi import document as asyncapi_document
from tienda.contracts.topics import Topic, topics_consumed_by, topics_produced_by
from tienda.messaging.clock import Clock, system_clock
from tienda.messaging.consumer import Consumer
from tienda.messaging.counters import Counters
from tienda.messaging.database import READ_ONLY, create_engine, session_factory
from tienda.messaging.dead_letters import DeadLetters
from tienda.messaging.diagnosis import diagnose
from tienda.messaging.http import Check, NotReady, TokenRing, health_app
from tienda.messaging.kafka import Fetch, create_broker, subscribe
from tienda.messaging.logs import configure_logging
from tienda.messaging.loop_lag import LoopWatchdog
from tienda.messaging.metrics import metrics_router
from tienda.messaging.migrations import upgrade_to_head
from tienda.messaging.monitoring import Monitoring
from tienda.messaging.offsets import OffsetCommitter
from tienda.messaging.processor import MessageProcessor, RetryPolicy
from tienda.messaging.provisioning import ProvisioningError, TopicLayout, provision
from tienda.messaging.publisher import KafkaPublisher
from tienda.messaging.reads import QuietServer, ReadProcess, ReadRoutes, loopback_socket, separate_reads_possible
from tienda.messaging.relay import OutboxRelay
from tienda.messaging.relay_lease import claim_sqlite_file, relay_lease
from tienda.messaging.settings import WorkerSettings
from tienda.messaging.tables import MessagingTables
from tienda.messaging.tracing import configure_tracing
from tienda.messaging.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


async def _no_backlog() -> int:
    return 0


@dataclass
class Runtime:
    """The live parts of a worker, handed to the service's read routes."""

    service: str
    settings: WorkerSettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    tables: MessagingTables
    broker: KafkaBroker
    publisher: KafkaPublisher
    clock: Clock = system_clock
    leads: Callable[[], bool] = field(default=lambda: True)
    """Whether this replica runs the service's scheduled jobs: the one holding the relay lease
    (every replica on SQLite, which takes one worker, or without the lease)."""
    counters: Counters = field(default_factory=Counters)
    monitoring: Monitoring = field(init=False)
    backlog: Callable[[], Awaitable[int]] = field(default=_no_backlog)
    kafka_problem: str | None = "connecting"
    """Why the worker is not connected to Kafka yet (None once it is): what readiness says."""
    unit_of_work: Callable[[], UnitOfWork] = field(init=False)
    readers: async_sessionmaker[AsyncSession] = field(init=False)
    read_only: AsyncEngine = field(init=False)
    """The engine for reads that need no ORM session (``read_only.connect()``): no write lock taken."""

    def __post_init__(self) -> None:
        self.unit_of_work = lambda: UnitOfWork(self.sessions, self.tables, self.service, clock=self.clock)
        self.read_only = self.engine.execution_options(**{READ_ONLY: True})
        self.readers = session_factory(self.read_only)
        self.monitoring = Monitoring(self.service, self.publisher, self.counters, self.settings.dead_letter_alert_at)


Routes = Callable[[Runtime, TokenRing], Sequence[APIRouter]]
"""Routes that need the live worker (its unit of work, its runs in progress)."""
BackgroundTask = Callable[[Runtime], Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class ServiceDefinition:
    """What makes a worker one service and not another; built by the service's ``bootstrap.definition``."""

    name: str
    metadata: MetaData
    tables: MessagingTables
    migrations: Path
    consumer: Consumer
    routes: Routes = lambda runtime, tokens: ()
    read_routes: ReadRoutes = lambda reads, tokens: ()
    """Routes that only read the database: served by the read process when there is one (``reads``)."""
    read_process: str | None = None
    """The module that runs the read process (``python -m <module> <worker port>``); None: no read process."""
    background: Sequence[BackgroundTask] = ()
    clock: Clock = system_clock


async def run_worker(
    definition: ServiceDefinition, settings: WorkerSettings, stop: asyncio.Event | None = None
) -> None:
    """Run until SIGINT/SIGTERM (or ``stop`` is set), then stop in order and return."""
    database_url = settings.database_url_for(definition.name)
    sqlite_claim = claim_sqlite_file(database_url, definition.name)  # before anything else: a second one stops here
    configure_logging(definition.name, settings.log_level, settings.log_json)
    configure_tracing(definition.name)
    stop = stop or _stop_on_signals()
    kafka = settings.kafka()
    engine = create_engine(database_url)
    await upgrade_to_head(engine, definition.migrations)
    runtime = Runtime(
        definition.name,
        settings,
        engine,
        session_factory(engine),
        definition.tables,
        create_broker(kafka, definition.name),
        KafkaPublisher(kafka, f"tienda-{definition.name}", settings.publish_linger_ms),
        definition.clock,
    )
    relay = OutboxRelay(
        engine,
        definition.tables,
        runtime.publisher,
        runtime.counters,
        batch_size=settings.relay_batch_size,
        lease=relay_lease(engine, definition.name, enabled=settings.relay_lease, poll=settings.relay_lease_poll),
    )
    runtime.monitoring.relay_leader = runtime.leads = lambda: relay.leader
    offsets = _wire_consumer(definition, runtime, relay)
    runtime.backlog = relay.backlog
    reads = definition.read_process if separate_reads_possible(settings, database_url) else None
    own = loopback_socket() if reads else None  # the read process takes HTTP_PORT and forwards the rest here
    server = QuietServer(
        uvicorn.Config(
            _app(definition, runtime),
            host=settings.http_host,
            port=settings.http_port,
            log_config=None,
            lifespan="off",
            access_log=False,
        )
    )
    # What start-up built (modules, pydantic and SQLAlchemy schemas, the app) lives as long as the
    # worker: out of the collector's sight, a full collection no longer walks it and holds the loop
    # for 200-290 ms (bench/renewal.py: the longest holds were full collections; frozen, 91 ms).
    gc.freeze()
    # Readiness answers while Kafka is awaited, saying why the worker is not ready yet.
    server_task = asyncio.create_task(server.serve(sockets=[own] if own else None), name=f"{definition.name}-http")
    read_processes = (
        [ReadProcess(reads, own.getsockname()[1]) for _ in range(settings.read_processes)] if reads and own else []
    )
    read_tasks = [asyncio.create_task(read.run(), name=f"{definition.name}-reads") for read in read_processes]
    await _start_broker(runtime, stop)
    relay_task = asyncio.create_task(relay.run(), name=f"{definition.name}-outbox-relay")
    tasks = [asyncio.create_task(task(runtime), name=f"{definition.name}-background") for task in definition.background]
    heartbeats = runtime.monitoring.run_heartbeats(relay.backlog, settings.heartbeat_seconds)
    tasks.append(asyncio.create_task(heartbeats, name=f"{definition.name}-heartbeat"))
    watchdog = LoopWatchdog(runtime.monitoring.observe_loop_lag)
    tasks.append(asyncio.create_task(watchdog.run(), name=f"{definition.name}-loop-watchdog"))
    if runtime.kafka_problem is None:
        log.info(
            "%s ready: kafka %s, database %s, http://%s:%d",
            definition.name,
            kafka.describe(),
            engine.url.render_as_string(hide_password=True),
            settings.http_host,
            settings.http_port,
        )
    await stop.wait()
    log.info("%s stopping", definition.name)
    await offsets.close()
    await runtime.broker.stop()
    tasks += read_tasks
    for task in (relay_task, *tasks):
        task.cancel()
    server.should_exit = True
    await asyncio.gather(relay_task, server_task, *tasks, return_exceptions=True)
    await runtime.publisher.stop()  # after the relay: what it sent last is flushed
    await engine.dispose()
    if sqlite_claim:
        sqlite_claim.close()
    log.info("%s stopped", definition.name)


def _wire_consumer(definition: ServiceDefinition, runtime: Runtime, relay: OutboxRelay) -> OffsetCommitter:
    def unit_of_work() -> UnitOfWork:
        return UnitOfWork(
            runtime.sessions, definition.tables, definition.name, on_commit=relay.wake, clock=definition.clock
        )

    runtime.unit_of_work = unit_of_work
    consumer = definition.consumer
    processor = MessageProcessor(
        consumer.handlers,
        unit_of_work,
        DeadLetters(definition.name, runtime.publisher),
        runtime.counters,
        RetryPolicy(runtime.settings.retry_delays),
        runtime.monitoring.observe,
    )
    return subscribe(
        runtime.broker,
        processor,
        consumer.topic_names,
        consumer.group_id,
        runtime.monitoring.record_position,
        runtime.settings.consume_batch_size,
        before_batch=lambda: relay.keep_up(runtime.settings.relay_batch_size * 2),
        commit_interval=runtime.settings.commit_interval,
        fetch=Fetch(runtime.settings.consume_fetch_min_bytes, runtime.settings.consume_fetch_max_wait_ms),
    )


def service_topics(service: str) -> list[Topic]:
    """The topics a service reads or writes: what it checks (and creates when allowed) at start."""
    topics = {topic.name: topic for topic in (*topics_consumed_by(service), *topics_produced_by(service))}
    return list(topics.values())


async def _start_broker(runtime: Runtime, stop: asyncio.Event) -> None:
    """Check (and create when missing and allowed) the service's topics and connect, waiting for
    Kafka as long as it takes (or until stopped). Nothing is consumed before that succeeds; each
    failure is named in the log and in readiness: a wrong password, an untrusted certificate..."""
    settings = runtime.settings
    kafka = settings.kafka()
    layout = TopicLayout(settings.kafka_replication_factor, settings.kafka_min_insync_replicas)
    delay = 0.5
    while not stop.is_set():
        try:
            await provision(kafka, service_topics(runtime.service), layout)
            await runtime.publisher.start()  # before the subscribers: the first outcome goes out
            await runtime.broker.start()
            runtime.kafka_problem = None
            return
        except Exception as error:  # noqa: BLE001 - Kafka not there yet, or refusing us: say why, retry
            with contextlib.suppress(Exception):
                await runtime.broker.stop()  # what the failed start opened
            with contextlib.suppress(Exception):
                await runtime.publisher.stop()
            runtime.kafka_problem = await diagnose(kafka) or _reason(error)
            log.warning("kafka %s: %s; retrying in %.1fs", kafka.describe(), runtime.kafka_problem, delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            delay = min(delay * 2, 5.0)


def _reason(error: Exception) -> str:
    text = str(error) or type(error).__name__
    return text if isinstance(error, ProvisioningError) else f"{type(error).__name__}: {text}"


def _app(definition: ServiceDefinition, runtime: Runtime) -> FastAPI:
    async def database() -> None:
        async with runtime.engine.execution_options(**{READ_ONLY: True}).connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def kafka() -> None:
        if runtime.kafka_problem is not None:
            raise NotReady(runtime.kafka_problem)
        if not await runtime.broker.ping(timeout=0.5):
            raise NotReady(f"no answer from {runtime.settings.kafka_bootstrap_servers}")

    tokens = TokenRing(runtime.settings.api_tokens)
    return http_app(definition, runtime, tokens, {"database": database, "kafka": kafka})


def http_app(
    definition: ServiceDefinition, runtime: Runtime, tokens: TokenRing, checks: Mapping[str, Check]
) -> FastAPI:
    """The worker's HTTP surface: health, metrics, its documents and the service's routers. Routers
    read ``runtime`` only when a request comes (the documents are built without one)."""
    routers = [
        metrics_router(lambda: runtime.monitoring, lambda: runtime.backlog()),  # noqa: PLW0108 - set after start
        documents_router(definition),
        *definition.routes(runtime, tokens),
        *definition.read_routes(runtime, tokens),
    ]
    return health_app(definition.name, checks, routers)


def documents_router(definition: ServiceDefinition) -> APIRouter:
    """/asyncapi.json beside FastAPI's /openapi.json: documents only, no endpoint that publishes ("try it")."""
    asyncapi = asyncapi_document(definition.name)
    router = APIRouter()

    @router.get("/asyncapi.json")
    async def messages() -> dict[str, Any]:
        """What this worker consumes and publishes, as AsyncAPI 3.0."""
        return asyncapi

    return router


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop
