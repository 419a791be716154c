"""A real Apache Kafka broker (KRaft, one node) run from Maven Central jars, without Docker.

Library use::

    with LocalKafka(tmp_path) as kafka:
        connect_to(kafka.bootstrap_servers)

Command line::

    python -m tienda.devkit.kafka jars                 # only fetch the jars
    python -m tienda.devkit.kafka start [--port 9092]  # run until Ctrl-C / SIGTERM
    python -m tienda.devkit.kafka start --brokers 3 --secure   # a secured cluster (cluster.py)
"""

from __future__ import annotations

import argparse
import atexit
import base64
import contextlib
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import deque
from pathlib import Path
from types import FrameType, TracebackType
from typing import IO, Self

from tienda.devkit.ports import free_port

KAFKA_VERSION = "4.4.0"
KAFKA_JAR = f"kafka_2.13-{KAFKA_VERSION}.jar"
NODE_ID = 1
HOST = "127.0.0.1"

REPO_ROOT = Path(__file__).resolve().parents[4]
KAFKA_ASSETS = REPO_ROOT / "devkit" / "kafka"
POM = KAFKA_ASSETS / "pom.xml"
LOG4J_CONFIG = KAFKA_ASSETS / "log4j2.xml"
DEFAULT_LIBS = REPO_ROOT / ".cache" / "kafka" / "libs"
DEFAULT_DATA_DIR = REPO_ROOT / ".data" / "kafka"
LIBS_ENV = "TIENDA_KAFKA_LIBS"

_TAIL_LINES = 40
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class KafkaError(RuntimeError):
    """Base of the errors of the local Kafka launcher."""


class KafkaJarsError(KafkaError):
    """The broker's jars could not be fetched."""


class KafkaStartError(KafkaError):
    """The broker did not become ready."""


# --------------------------------------------------------------------------- jars


def default_libs_dir() -> Path:
    """Where the jars live: $TIENDA_KAFKA_LIBS, else <repo>/.cache/kafka/libs."""
    override = os.environ.get(LIBS_ENV)
    return Path(override) if override else DEFAULT_LIBS


def ensure_jars(cache_dir: Path | None = None) -> Path:
    """Return a directory holding the broker's runtime jars, fetching them with Maven once."""
    libs = cache_dir if cache_dir is not None else default_libs_dir()
    if (libs / KAFKA_JAR).is_file():
        return libs
    mvn = _require_tool("mvn", "install Maven (apt-get install maven)", KafkaJarsError)
    if not POM.is_file():
        raise KafkaJarsError(f"{POM} is missing: run from a checkout of the Tienda repository, or set {LIBS_ENV}")
    libs.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{libs.name}-", dir=libs.parent))
    try:
        _copy_dependencies(mvn, staging)
        _publish(staging, libs)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return libs


def _copy_dependencies(mvn: str, target: Path) -> None:
    """Run Maven's dependency:copy-dependencies into target."""
    command = [
        mvn,
        "-q",
        "-B",
        "-Dstyle.color=never",
        "-f",
        str(POM),
        "dependency:copy-dependencies",
        "-DincludeScope=runtime",
        f"-DoutputDirectory={target}",
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0 or not (target / KAFKA_JAR).is_file():
        output = _last_lines(_ANSI.sub("", result.stdout + result.stderr), _TAIL_LINES)
        raise KafkaJarsError(
            f"fetching the Kafka jars failed (exit {result.returncode}): {' '.join(command)}\n"
            f"Check that Maven Central is reachable, or point {LIBS_ENV} at a directory of jars.\n"
            f"--- mvn output (tail) ---\n{output}"
        )


def _publish(staging: Path, libs: Path) -> None:
    """Rename a complete staging directory to libs, so a half download is never seen there."""
    if (libs / KAFKA_JAR).is_file():
        return  # another process finished first
    if libs.exists():
        stale = libs.with_name(f".{libs.name}-stale-{os.getpid()}")
        libs.rename(stale)
        shutil.rmtree(stale, ignore_errors=True)
    staging.rename(libs)


def _require_tool(name: str, hint: str, error: type[KafkaError]) -> str:
    """The full path of an executable on PATH, or the given error saying how to get it."""
    path = shutil.which(name)
    if path is None:
        raise error(f"`{name}` is not on PATH: {hint}")
    return path


# --------------------------------------------------------------------------- readiness probe


def broker_ids(port: int, host: str = HOST, timeout: float = 1.0) -> list[int] | None:
    """Node ids from a Kafka Metadata (v4) request, or None when the broker does not answer it."""
    client = b"tienda-devkit"
    header = struct.pack(">hhih", 3, 4, 1, len(client)) + client  # api key 3 = Metadata, version 4
    body = struct.pack(">ib", -1, 0)  # all topics, no auto creation
    request = header + body
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(struct.pack(">i", len(request)) + request)
            (size,) = struct.unpack(">i", _recv_exact(sock, 4))
            return _parse_brokers(_recv_exact(sock, size))
    except (OSError, struct.error):
        return None


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    """Exactly size bytes from sock, or OSError if the peer closes first."""
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            raise ConnectionError("connection closed mid-response")
        chunks += chunk
    return bytes(chunks)


def _parse_brokers(response: bytes) -> list[int]:
    """The node ids in a Metadata v4 response (header v0: correlation id)."""
    _correlation, _throttle, count = struct.unpack_from(">iii", response, 0)
    offset, ids = 12, []
    for _ in range(count):
        node_id, host_len = struct.unpack_from(">ih", response, offset)
        offset += 6 + host_len + 4  # node id, host, port
        (rack_len,) = struct.unpack_from(">h", response, offset)
        offset += 2 + max(rack_len, 0)
        ids.append(node_id)
    return ids


# --------------------------------------------------------------------------- broker


class LocalKafka:
    """One KRaft node (broker and controller) on 127.0.0.1, with its data in data_dir."""

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        controller_port: int | None = None,
        heap: str = "512m",
    ) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.port = port if port is not None else free_port()
        self.controller_port = controller_port if controller_port is not None else _other_free_port(self.port)
        self.heap = heap
        self._process: subprocess.Popen[bytes] | None = None
        self._stdout: IO[bytes] | None = None
        self._log_start = 0

    # ----------------------------------------------------------------- paths and state

    @property
    def bootstrap_servers(self) -> str:
        """The bootstrap servers string for clients: "127.0.0.1:PORT"."""
        return f"{HOST}:{self.port}"

    @property
    def log_file(self) -> Path:
        """The broker's log (log4j), appended to across restarts."""
        return self.data_dir / "broker.log"

    @property
    def stdout_file(self) -> Path:
        """What the JVM itself printed (crashes, bad options)."""
        return self.data_dir / "broker.out"

    @property
    def properties_file(self) -> Path:
        """The generated server.properties."""
        return self.data_dir / "server.properties"

    @property
    def log_dir(self) -> Path:
        """Kafka's log.dirs: the topic data and the KRaft metadata."""
        return self.data_dir / "kraft"

    @property
    def pid(self) -> int | None:
        """The java process id while one was started and not yet stopped."""
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        """Whether the java process is alive."""
        return self._process is not None and self._process.poll() is None

    # ----------------------------------------------------------------- lifecycle

    def start(self, timeout: float = 60) -> str:
        """Start the broker, wait until it answers a Metadata request, return bootstrap servers."""
        if self.running:
            return self.bootstrap_servers
        java = _require_tool("java", "install a JDK 17+ (apt-get install openjdk-17-jre-headless)", KafkaStartError)
        libs = ensure_jars()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._write_properties()
        self._format_storage(java, libs)
        self._launch(java, libs)
        atexit.register(self.stop)
        self._wait_ready(timeout)
        return self.bootstrap_servers

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM the broker's process group, SIGKILL it after timeout seconds."""
        self._end(signal.SIGTERM, timeout)

    def kill(self) -> None:
        """SIGKILL the broker at once, as a crash would (data written so far stays on disk)."""
        self._end(signal.SIGKILL, 10)

    def restart(self, timeout: float = 60) -> str:
        """Stop, then start again on the same ports and data directory."""
        self.stop()
        return self.start(timeout)

    def log_tail(self, lines: int = _TAIL_LINES) -> str:
        """The last lines of the broker log, and of the JVM's own output when it has any."""
        parts = [f"--- {self.log_file} (last {lines} lines) ---\n{_tail_file(self.log_file, lines)}"]
        jvm_output = _tail_file(self.stdout_file, lines)
        if jvm_output.strip():
            parts.append(f"--- {self.stdout_file} (last {lines} lines) ---\n{jvm_output}")
        return "\n".join(parts)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"LocalKafka({self.bootstrap_servers}, data_dir={self.data_dir}, pid={self.pid})"

    # ----------------------------------------------------------------- steps of start

    def _write_properties(self) -> None:
        """Write server.properties for a single KRaft node."""
        settings = {
            "process.roles": "broker,controller",
            "node.id": str(NODE_ID),
            "controller.quorum.voters": f"{NODE_ID}@{HOST}:{self.controller_port}",
            "listeners": f"PLAINTEXT://{HOST}:{self.port},CONTROLLER://{HOST}:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://{HOST}:{self.port}",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "log.dirs": str(self.log_dir),
            "num.partitions": "6",
            "default.replication.factor": "1",
            "min.insync.replicas": "1",
            "auto.create.topics.enable": "false",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "6",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "6",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            # After a kill the old registration blocks the new one until its session expires (default 9 s).
            "broker.session.timeout.ms": "3000",
            "broker.heartbeat.interval.ms": "500",
            # One node on loopback of a small machine: threads to match (defaults 3 and 8).
            "num.network.threads": "2",
            "num.io.threads": "2",
        }
        text = "".join(f"{key}={value}\n" for key, value in settings.items())
        self.properties_file.write_text("# Written by tienda.devkit.kafka; rewritten on every start.\n" + text)

    def _format_storage(self, java: str, libs: Path) -> None:
        """Format log.dirs once per data directory (skipped when meta.properties exists)."""
        if (self.log_dir / "meta.properties").is_file():
            return
        command = [
            *self._java_command(java, libs, heap="256m"),
            "kafka.tools.StorageTool",
            "format",
            "--ignore-formatted",
            "-t",
            self._cluster_id(),
            "-c",
            str(self.properties_file),
            *self._format_arguments(),
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            shown = " ".join(command[: command.index("-c") + 2])  # what follows may hold passwords
            raise KafkaStartError(
                f"formatting {self.log_dir} failed (exit {result.returncode}): {shown} ...\n"
                f"{_last_lines(result.stdout + result.stderr, _TAIL_LINES)}\n{self.log_tail()}"
            )

    def _cluster_id(self) -> str:
        return _random_cluster_id()

    def _format_arguments(self) -> list[str]:
        """More arguments of the storage format (a secured cluster's SCRAM users)."""
        return []

    def _launch(self, java: str, libs: Path) -> None:
        """Start java in its own process group, its output going to broker.out."""
        command = [*self._java_command(java, libs, self.heap), "kafka.Kafka", str(self.properties_file)]
        self._log_start = self.log_file.stat().st_size if self.log_file.exists() else 0
        self._stdout = self.stdout_file.open("ab")
        self._process = subprocess.Popen(
            command,
            cwd=self.data_dir,
            stdin=subprocess.DEVNULL,
            stdout=self._stdout,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def _java_command(self, java: str, libs: Path, heap: str) -> list[str]:
        """java with heap, log4j configuration and class path; the main class follows."""
        return [
            java,
            f"-Xmx{heap}",
            "-Xms128m",
            "-XX:+ExitOnOutOfMemoryError",
            "-XX:+UseSerialGC",  # a heap of a few hundred MiB: no GC threads to feed on a 2-core machine
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={LOG4J_CONFIG}",
            f"-Dkafka.log.file={self.log_file}",
            "-cp",
            f"{libs}{os.sep}*",
        ]

    def _wait_ready(self, timeout: float) -> None:
        """Poll a Metadata request until this node is listed; raise KafkaStartError otherwise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = self._process.poll() if self._process is not None else -1
            if code is not None:
                self._fail(f"the broker exited with code {code} while starting")
            if NODE_ID in (broker_ids(self.port) or []):
                return
            time.sleep(0.1)
        self._fail(f"the broker was not ready within {timeout:g} s")

    def _fail(self, reason: str) -> None:
        """Stop what is left of the broker and raise KafkaStartError with the log tail."""
        self.kill()
        errors = _error_lines(self.log_file, self._log_start)
        raise KafkaStartError(
            f"{reason} ({self.bootstrap_servers}, controller port {self.controller_port}, data {self.data_dir}).\n"
            f"Read the log below; a port in use or a data dir of another cluster are common causes.\n"
            f"--- errors logged by this start ---\n{errors or '(none)'}\n"
            f"{self.log_tail()}"
        )

    # ----------------------------------------------------------------- steps of stop

    def _end(self, sig: signal.Signals, timeout: float) -> None:
        """Send sig to the process group, escalate to SIGKILL after timeout, reap the process."""
        process = self._process
        if process is not None:
            if process.poll() is None:
                _signal_group(process.pid, sig)
                try:
                    process.wait(timeout)
                except subprocess.TimeoutExpired:
                    _signal_group(process.pid, signal.SIGKILL)
                    process.wait()
            self._process = None
        if self._stdout is not None:
            self._stdout.close()
            self._stdout = None
        atexit.unregister(self.stop)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    """Signal a process group that may already be gone."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def _other_free_port(taken: int) -> int:
    """A free port different from taken."""
    while (port := free_port()) == taken:
        pass
    return port


def _random_cluster_id() -> str:
    """A cluster id as `kafka-storage random-uuid` makes it: URL-safe base64 of 16 random bytes."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


def _tail_file(path: Path, lines: int) -> str:
    """The last lines of a text file, or a note that it does not exist."""
    try:
        with path.open(encoding="utf-8", errors="replace") as file:
            return "".join(deque(file, maxlen=lines))
    except FileNotFoundError:
        return f"({path} does not exist)\n"


def _error_lines(path: Path, start: int, limit: int = 12) -> str:
    """ERROR/FATAL lines of a log from byte offset start, each with its exception and causes."""
    try:
        with path.open("rb") as file:
            file.seek(start)
            text = file.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return ""
    found: list[str] = []
    after_error = False
    for line in text.splitlines():
        is_error = line.startswith("[") and ("] ERROR " in line or "] FATAL " in line)
        is_detail = line.startswith("Caused by:") or (after_error and not line.startswith(("[", "\t")))
        if (is_error or is_detail) and line not in found:
            found.append(line)
        after_error = is_error
    return "\n".join(found[:limit])


def _last_lines(text: str, lines: int) -> str:
    """The last lines of text."""
    return "\n".join(text.splitlines()[-lines:])


# --------------------------------------------------------------------------- command line


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tienda.devkit.kafka", description="Local Apache Kafka broker for Tienda."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("jars", help="fetch the broker's jars into the cache and exit")
    start = commands.add_parser("start", help="run a broker in the foreground until Ctrl-C or SIGTERM")
    start.add_argument("--port", type=int, default=None, help="client port (default: a free one)")
    start.add_argument("--controller-port", type=int, default=None, help="KRaft controller port (default: a free one)")
    start.add_argument(
        "--data-dir", type=Path, default=None, help=f"default: {DEFAULT_DATA_DIR} (a cluster: ...-cluster)"
    )
    start.add_argument("--heap", default=None, help="JVM -Xmx (default: 512m; 256m per node of a cluster)")
    start.add_argument("--brokers", type=int, default=1, help="nodes of a KRaft cluster (default: 1)")
    start.add_argument(
        "--secure", action="store_true", help="SASL_SSL, SCRAM users and ACLs of the topic registry (see cluster.py)"
    )
    start.add_argument(
        "--timeout", type=float, default=None, help="seconds to wait for readiness (default: 60; a cluster: 180)"
    )
    return parser.parse_args(argv)


def stop_on_signals() -> threading.Event:
    """An event set by SIGINT or SIGTERM."""
    stop_requested = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop_requested.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    return stop_requested


def _serve(args: argparse.Namespace) -> int:
    """Run a broker until SIGINT/SIGTERM or until it dies; return the exit code."""
    if args.brokers > 1 or args.secure:
        from tienda.devkit.cluster import serve_cluster  # noqa: PLC0415 - the cluster imports this module

        return serve_cluster(args)
    stop_requested = stop_on_signals()
    kafka = LocalKafka(
        args.data_dir or DEFAULT_DATA_DIR,
        port=args.port,
        controller_port=args.controller_port,
        heap=args.heap or "512m",
    )
    try:
        began = time.monotonic()
        bootstrap = kafka.start(args.timeout or 60)
        print(f"Kafka {KAFKA_VERSION} ready in {time.monotonic() - began:.1f} s", flush=True)
        print(f"bootstrap servers: {bootstrap}", flush=True)
        print(f"log: {kafka.log_file}", flush=True)
        while not stop_requested.wait(0.5):
            if not kafka.running:
                print(f"the broker died unexpectedly.\n{kafka.log_tail()}", file=sys.stderr, flush=True)
                return 1
        return 0
    finally:
        kafka.stop()


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m tienda.devkit.kafka`."""
    args = _parse_args(argv)
    try:
        if args.command == "jars":
            began = time.monotonic()
            libs = ensure_jars()
            print(f"jars in {libs} ({time.monotonic() - began:.1f} s)", flush=True)
            return 0
        return _serve(args)
    except KafkaError as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        return 2


if __name__ == "__main__":
    sys.exit(main())
