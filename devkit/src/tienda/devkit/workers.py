"""Tienda's workers as real processes: started, watched, stopped or killed."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO, Any

from tienda.devkit.ports import free_port
from tienda.messaging.connection import Kafka, KafkaConnection, connection_of

SERVICES = ("store", "billing", "advisor")


class WorkerStartError(RuntimeError):
    """A worker did not become ready."""


class WorkerProcess:
    """One worker (``python -m tienda.<service>``) with its own environment and log file."""

    def __init__(self, service: str, env: dict[str, str], log_path: Path, http_port: int | None = None) -> None:
        self.service = service
        self.http_port = http_port or free_port()
        self.log_path = log_path
        prefix = f"TIENDA_{service.upper()}_"
        self._env = {**os.environ, **env, f"{prefix}HTTP_PORT": str(self.http_port)}
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self, timeout: float = 60, wait: bool = True) -> None:
        """Start and (unless ``wait`` is false) wait until /health/ready answers 200."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self._process = subprocess.Popen(
            [sys.executable, "-m", f"tienda.{self.service}"],
            env=self._env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if wait:
            self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                raise WorkerStartError(f"{self.service} exited during start:\n{self.log_tail()}")
            if self.ready():
                return
            time.sleep(0.2)
        raise WorkerStartError(f"{self.service} not ready after {timeout:.0f}s:\n{self.log_tail()}")

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def ready(self) -> bool:
        return self.readiness()[0] == 200

    def readiness(self) -> tuple[int, dict[str, Any]]:
        """GET /health/ready: the status (0 when nothing answers) and the body."""
        try:
            with urllib.request.urlopen(f"{self.url}/health/ready", timeout=2) as response:  # noqa: S310 - loopback
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")
        except (urllib.error.URLError, OSError, ValueError):
            return 0, {}

    def get(self, path: str, token: str) -> Any:
        """GET a read endpoint with a bearer token; the decoded JSON."""
        request = urllib.request.Request(f"{self.url}{path}", headers={"Authorization": f"Bearer {token}"})  # noqa: S310
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback
            return json.loads(response.read())

    def metrics(self) -> dict[str, float]:
        """GET /metrics: each sample by its name (labels dropped)."""
        with urllib.request.urlopen(f"{self.url}/metrics", timeout=5) as response:  # noqa: S310 - loopback
            text = response.read().decode()
        samples = (line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#"))
        return {name.split("{", 1)[0]: float(value) for name, value in samples}

    def stop(self, timeout: float = 20) -> int | None:
        """SIGTERM, wait, SIGKILL if it does not go; the exit code."""
        if self._process is None:
            return None
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self._close()

    def kill(self) -> int | None:
        """SIGKILL: the crash a worker must survive."""
        if self._process is None:
            return None
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait(10)
        return self._close()

    def _close(self) -> int | None:
        code = self._process.returncode if self._process else None
        if self._log:
            self._log.close()
            self._log = None
        return code

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return "(no log yet)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def kafka_env(connection: KafkaConnection) -> dict[str, str]:
    """The ``KAFKA_*`` variables of a connection, password included (for a child's environment)."""
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": connection.bootstrap_servers,
        "KAFKA_SECURITY_PROTOCOL": str(connection.security_protocol),
    }
    if connection.security_protocol.uses_sasl:
        env |= {
            "KAFKA_SASL_MECHANISM": str(connection.sasl_mechanism),
            "KAFKA_SASL_USERNAME": connection.sasl_username,
            "KAFKA_SASL_PASSWORD": connection.sasl_password.get_secret_value(),
        }
    files = {
        "KAFKA_SSL_CA_FILE": connection.ssl_ca_file,
        "KAFKA_SSL_CERT_FILE": connection.ssl_cert_file,
        "KAFKA_SSL_KEY_FILE": connection.ssl_key_file,
    }
    return env | {name: str(path) for name, path in files.items() if path is not None}


def worker_env(service: str, kafka: Kafka, database_url: str, **extra: str) -> dict[str, str]:
    """The environment that points one worker at a broker (with its security) and a database."""
    prefix = f"TIENDA_{service.upper()}_"
    env = {prefix + name: value for name, value in kafka_env(connection_of(kafka)).items()}
    env[f"{prefix}DATABASE_URL"] = database_url
    return env | {f"{prefix}{name.upper()}": value for name, value in extra.items()}
