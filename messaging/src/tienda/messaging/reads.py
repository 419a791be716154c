"""A service's read endpoints served from a process of their own, beside the worker's.

The worker's event loop also runs the consumer, the outbox relay and their transactions; a
read endpoint answered on that loop waits behind a batch of carts, and shares one core with
it. A service whose read routes only read (``ServiceDefinition.read_routes``, and
``READ_PROCESSES`` above 0: the store) serves them from a second process on the same database
(SQLite's WAL lets readers in other processes read while the worker writes; PostgreSQL too):

- the **read process** (``python -m tienda.<service>.reads``, started and watched by the
  worker; ``READ_PROCESSES`` of them, sharing the port with SO_REUSEPORT when more than one)
  listens on the service's ``HTTP_PORT`` and answers the read routes itself, on an engine of
  its own;
- every other request (health, metrics, the OpenAPI and AsyncAPI documents, an unknown path)
  it forwards to the worker's own HTTP surface on a loopback port the worker chose, so those
  answer exactly what the worker says (its readiness, its counters).

The worker restarts a read process that exits, and stops it when it stops. A read process whose
worker is gone (even killed with SIGKILL) sees its standard input close and exits at once, so a
worker started again finds the port free.
"""

import asyncio
import contextlib
import gc
import json
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import uvicorn
from fastapi import APIRouter, FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.types import ASGIApp, Receive, Scope, Send

from tienda.messaging.database import READ_ONLY, create_engine, session_factory
from tienda.messaging.http import TokenRing, api_app
from tienda.messaging.logs import configure_logging
from tienda.messaging.settings import WorkerSettings

log = logging.getLogger(__name__)

FORWARD_TIMEOUT = 10.0
RESTART_DELAY = 1.0
_HOP_BY_HOP = {b"connection", b"keep-alive", b"transfer-encoding", b"content-length", b"upgrade", b"te"}


class Reads(Protocol):
    """What read routes may use: the worker's ``Runtime`` has it, and so has the read process's ``ReadSide``."""

    @property
    def read_only(self) -> AsyncEngine:
        """An engine whose connections take no write lock (``read_only.connect()``)."""

    @property
    def readers(self) -> async_sessionmaker[AsyncSession]:
        """ORM sessions on ``read_only``."""


@dataclass
class ReadSide:
    """What read routes use: a read-only engine, and sessions on it. The worker's ``Runtime`` has
    the same two; the read process builds this one on an engine of its own."""

    engine: AsyncEngine
    read_only: AsyncEngine = field(init=False)
    readers: async_sessionmaker[AsyncSession] = field(init=False)

    def __post_init__(self) -> None:
        self.read_only = self.engine.execution_options(**{READ_ONLY: True})
        self.readers = session_factory(self.read_only)


ReadRoutes = Callable[[Reads, TokenRing], Sequence[APIRouter]]


def separate_reads_possible(settings: WorkerSettings, database_url: str) -> bool:
    """A read process needs a fixed public port and a database another process can open."""
    in_memory = database_url.startswith("sqlite") and (":memory:" in database_url or database_url.endswith("://"))
    return settings.read_processes > 0 and settings.http_port != 0 and not in_memory


def public_socket(host: str, port: int, *, shared: bool) -> socket.socket:
    """The listening socket of HTTP_PORT; ``shared``: several read processes bind it (SO_REUSEPORT) and
    the kernel spreads the connections between them."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if shared:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind(address)
    except OSError as error:
        sock.close()
        raise SystemExit(f"read process: cannot listen on {host}:{port}: {error}; is another process on it?") from None
    sock.listen(2048)
    return sock


def loopback_socket() -> socket.socket:
    """A listening socket on a free loopback port: the worker's own HTTP surface behind the read process."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.set_inheritable(False)
    return sock


class QuietServer(uvicorn.Server):
    """Uvicorn that leaves signal handling to the process's own stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class ReadProcess:
    """The worker's side: starts ``python -m <module> <worker port>``, starts it again if it exits,
    stops it when the worker stops. Its output goes where the worker's goes."""

    def __init__(self, module: str, worker_port: int) -> None:
        self.module = module
        self.worker_port = worker_port
        self._process: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    async def run(self) -> None:
        try:
            while True:
                # A session of its own: where the kernel shares CPU between sessions (autogroups, on by
                # default on Linux), the reads get their own share instead of splitting the worker's.
                self._process = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    self.module,
                    str(self.worker_port),
                    stdin=asyncio.subprocess.PIPE,
                    start_new_session=True,
                )
                log.info("read process %s started (pid %d)", self.module, self._process.pid)
                code = await self._process.wait()
                log.error("read process %s exited (%s); starting it again in %.0fs", self.module, code, RESTART_DELAY)
                await asyncio.sleep(RESTART_DELAY)
        finally:
            await self._stop()

    async def _stop(self) -> None:
        process = self._process
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 5)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()


async def serve_reads(
    service: str, routes: ReadRoutes, settings: WorkerSettings, worker_port: int, stop: asyncio.Event | None = None
) -> None:
    """The read process: serve ``routes`` on the service's port, forward the rest to the worker."""
    configure_logging(service, settings.log_level, settings.log_json)
    stop = stop or _stop_when_told()
    engine = create_engine(settings.database_url_for(service))
    reads = ReadSide(engine)
    app = read_app(service, routes(reads, TokenRing(settings.api_tokens)), worker_port)
    server = QuietServer(uvicorn.Config(app, log_config=None, lifespan="off", access_log=False))
    listening = public_socket(settings.http_host, settings.http_port, shared=settings.read_processes > 1)
    gc.freeze()  # what start-up built lives as long as the process (see worker.run_worker)
    serving = asyncio.create_task(server.serve(sockets=[listening]), name=f"{service}-reads-http")
    log.info(
        "%s read process: http://%s:%d (the rest to the worker on 127.0.0.1:%d)",
        service,
        settings.http_host,
        settings.http_port,
        worker_port,
    )
    done, _ = await asyncio.wait([serving, asyncio.create_task(stop.wait())], return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True
    await serving
    await engine.dispose()
    if serving in done and not stop.is_set():
        raise SystemExit(f"{service} read process: the HTTP server stopped")


def _stop_when_told() -> asyncio.Event:
    """Set on SIGTERM, or when standard input closes: the worker that started this process is gone.
    SIGINT (Ctrl-C in a terminal reaches the whole group) is left to the worker, which stops this
    process in its order."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stdin = sys.stdin.fileno()

    def on_input() -> None:
        try:
            data = os.read(stdin, 4096)
        except OSError:
            data = b""
        if not data:
            loop.remove_reader(stdin)
            stop.set()

    loop.add_reader(stdin, on_input)
    return stop


def forwarding(port: int) -> ASGIApp:
    """An ASGI app that passes each request to the worker on 127.0.0.1:``port`` and its answer back."""

    async def forward(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        try:
            status, headers, content = await asyncio.wait_for(_exchange(port, scope, body), FORWARD_TIMEOUT)
        except (OSError, ValueError, TimeoutError, asyncio.IncompleteReadError) as error:
            status, headers, content = _unavailable(port, error)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    return forward


async def _exchange(port: int, scope: Scope, body: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        target = scope.get("raw_path") or scope["path"].encode()
        if scope.get("query_string"):
            target += b"?" + scope["query_string"]
        lines = [f"{scope['method']} ".encode() + target + b" HTTP/1.1"]
        lines += [name + b": " + value for name, value in scope["headers"] if name.lower() not in _HOP_BY_HOP]
        lines += [b"Content-Length: " + str(len(body)).encode(), b"Connection: close"]
        writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)
        answer = await reader.read()
    finally:
        writer.close()
    head, _, content = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.split(b"\r\n")
    status = int(status_line.split(b" ", 2)[1])
    headers = []
    chunked = False
    for line in header_lines:
        name, _, value = line.partition(b":")
        name, value = name.strip().lower(), value.strip()
        if name == b"transfer-encoding" and value.lower() == b"chunked":
            chunked = True
        if name not in _HOP_BY_HOP:
            headers.append((name, value))
    content = _dechunked(content) if chunked else content
    headers.append((b"content-length", str(len(content)).encode()))
    return status, headers, content


def _dechunked(data: bytes) -> bytes:
    out, rest = b"", data
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";", 1)[0], 16)
        if size == 0:
            break
        out, rest = out + rest[:size], rest[size + 2 :]
    return out


def _unavailable(port: int, error: Exception) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    detail = (
        f"the worker's own HTTP surface (127.0.0.1:{port}) did not answer: {type(error).__name__}: {error}; "
        "the worker may be starting or stopping, see its log"
    )
    content = json.dumps({"status": 503, "title": "worker unavailable", "detail": detail}).encode()
    return 503, [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode())], content


def read_app(service: str, routers: Sequence[APIRouter], worker_port: int) -> FastAPI:
    """The read process's app, as ``serve_reads`` serves it (for tests)."""
    return api_app(service, routers, fallback=forwarding(worker_port))
