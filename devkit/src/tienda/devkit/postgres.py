"""A throwaway PostgreSQL server on 127.0.0.1, for tests and local runs.

It uses the server binaries of this machine (Debian's ``postgresql`` package). They
refuse to run as root, so as root every PostgreSQL binary runs as the ``postgres`` OS
user through ``runuser``, in directories that user owns. As any other user they run
directly.

Layout of a server's base directory::

    <base_dir>/data        PGDATA, also the Unix socket directory (owned by postgres)
    <base_dir>/log/server.log

Command line: ``python -m tienda.devkit.postgres start [--port N]`` prints the URL base
and serves until SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import atexit
import collections
import contextlib
import os
import pwd
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType, TracebackType
from typing import Literal, Self

from tienda.devkit.ports import accepts_connections, free_port

PG_BIN_ENV = "TIENDA_PG_BIN"
HOST = "127.0.0.1"
SUPERUSER = "postgres"  # both the OS user the server runs as (under root) and the role

StopMode = Literal["smart", "fast", "immediate"]

_PG_ROOT = Path("/usr/lib/postgresql")
_REQUIRED_TOOLS = ("initdb", "pg_ctl")
_INSTALL_HINT = "run `apt-get update && apt-get install -y postgresql`"
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_PORT_ATTEMPTS = 3
# Durability stays on (fsync, synchronous_commit): crash tests rely on it.
_SETTINGS = {
    "listen_addresses": f"'{HOST}'",
    "max_connections": "200",
    "fsync": "on",
    "synchronous_commit": "on",
    "full_page_writes": "on",
}


class PostgresError(RuntimeError):
    """A local PostgreSQL operation failed."""


class PostgresNotFoundError(PostgresError):
    """No PostgreSQL server binaries on this machine."""


class PostgresStartError(PostgresError):
    """The server did not start or did not become ready; the message has the log tail."""


# --- binaries -------------------------------------------------------------------------


def find_pg_bin() -> Path:
    """The directory of the PostgreSQL server binaries to use.

    ``$TIENDA_PG_BIN`` if set, else the newest ``/usr/lib/postgresql/*/bin`` that has
    ``initdb`` and ``pg_ctl``.
    """
    override = os.environ.get(PG_BIN_ENV)
    if override:
        return _checked_override(Path(override))
    candidates = [d for d in _PG_ROOT.glob("*/bin") if _has_tools(d)]
    if not candidates:
        raise PostgresNotFoundError(
            f"no PostgreSQL server binaries (initdb, pg_ctl) under {_PG_ROOT}/*/bin: "
            f"{_INSTALL_HINT}, or set {PG_BIN_ENV} to a directory that has them"
        )
    return max(candidates, key=_version_key)


def _checked_override(bin_dir: Path) -> Path:
    if not _has_tools(bin_dir):
        missing = [t for t in _REQUIRED_TOOLS if not (bin_dir / t).is_file()]
        raise PostgresNotFoundError(
            f"{PG_BIN_ENV}={bin_dir} lacks {', '.join(missing)}: point it at a "
            f"PostgreSQL bin directory, unset it, or {_INSTALL_HINT}"
        )
    return bin_dir


def _has_tools(bin_dir: Path) -> bool:
    return all(os.access(bin_dir / tool, os.X_OK) for tool in _REQUIRED_TOOLS)


def _version_key(bin_dir: Path) -> tuple[int, ...]:
    return tuple(int(p) for p in bin_dir.parent.name.split(".") if p.isdigit())


# --- running PostgreSQL binaries ------------------------------------------------------


def _running_as_root() -> bool:
    return os.geteuid() == 0


def _server_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(SUPERUSER)
    except KeyError:
        raise PostgresError(
            f"running as root, PostgreSQL must run as the '{SUPERUSER}' OS user, which "
            f"does not exist: {_INSTALL_HINT} (it creates the user), or run as non-root"
        ) from None


def _as_server_user(argv: Sequence[str]) -> list[str]:
    if not _running_as_root():
        return list(argv)
    runuser = shutil.which("runuser")
    if runuser is None:
        raise PostgresError(
            "running as root needs `runuser` (util-linux) to run PostgreSQL as the "
            f"'{SUPERUSER}' user: `apt-get install -y util-linux`, or run as non-root"
        )
    return [runuser, "-u", SUPERUSER, "--", *argv]


def _child_env() -> dict[str, str]:
    """The environment without PG* variables (they would redirect clients) in locale C."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    return env


def _run(argv: Sequence[str], *, cwd: Path, timeout: float, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL binary (as the postgres user under root) and capture its output.

    A new session keeps the server out of the caller's terminal process group, so a
    Ctrl-C aimed at the caller does not also reach the server.
    """
    shown = " ".join(str(a) for a in argv)
    try:
        result = subprocess.run(
            _as_server_user(argv),
            cwd=cwd,
            env=_child_env(),
            capture_output=True,
            text=True,
            timeout=max(timeout, 1.0),
            start_new_session=True,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise PostgresError(f"`{shown}` did not finish within {timeout:.0f} s") from None
    if check and result.returncode != 0:
        output = (result.stderr.strip() or result.stdout.strip()) or "no output"
        raise PostgresError(f"`{shown}` failed with exit code {result.returncode}: {output}")
    return result


def _give_to_server_user(path: Path) -> None:
    if _running_as_root():
        user = _server_user()
        os.chown(path, user.pw_uid, user.pw_gid)


def _first_unsearchable_ancestor(path: Path) -> Path | None:
    """The first ancestor that others cannot search (a likely reason postgres cannot)."""
    for ancestor in reversed(path.resolve().parents):
        if not ancestor.stat().st_mode & stat.S_IXOTH:
            return ancestor
    return None


def _validated_name(name: str) -> str:
    if not _NAME_RE.fullmatch(name):
        raise ValueError(
            f"database name {name!r} is not a plain identifier: use 1-63 letters, "
            "digits and underscores, not starting with a digit"
        )
    return name


# --- the server -----------------------------------------------------------------------


class LocalPostgres:
    """A PostgreSQL cluster of its own, listening on 127.0.0.1 only, trust auth.

    ``base_dir=None`` makes a fresh ``/tmp/tienda-pg-*`` directory that :meth:`cleanup`
    removes. ``port=None`` picks a free port at the first start; later starts
    (:meth:`restart`) keep it. Used as a context manager it starts on entry, and on exit
    stops and, when it made the directory itself, removes it. An atexit hook stops a
    server the process forgot to stop.
    """

    def __init__(self, base_dir: Path | None = None, port: int | None = None) -> None:
        self._bin = find_pg_bin()
        self._owns_dir = base_dir is None
        self._root = base_dir.absolute() if base_dir is not None else None
        self._port = port if port is not None else free_port()
        self._port_fixed = port is not None
        self._atexit_registered = False

    # -- facts --

    @property
    def port(self) -> int:
        return self._port

    @property
    def bin_dir(self) -> Path:
        return self._bin

    @property
    def base_dir(self) -> Path:
        return self._require_root()

    @property
    def data_dir(self) -> Path:
        return self._require_root() / "data"

    @property
    def log_file(self) -> Path:
        return self._require_root() / "log" / "server.log"

    @property
    def url_base(self) -> str:
        """``postgresql+asyncpg://postgres@127.0.0.1:PORT/``: append a database name."""
        return f"postgresql+asyncpg://{SUPERUSER}@{HOST}:{self._port}/"

    def url(self, name: str = "postgres") -> str:
        """SQLAlchemy async URL of database ``name``."""
        return self.url_base + _validated_name(name)

    def dsn(self, name: str = "postgres") -> str:
        """libpq URL of database ``name``, as asyncpg.connect and psql take it."""
        return f"postgresql://{SUPERUSER}@{HOST}:{self._port}/{_validated_name(name)}"

    def is_running(self) -> bool:
        """Whether the postmaster of this data directory is alive."""
        pid = self._postmaster_pid()
        if pid is None:
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def log_tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of the server log, or a note that there is none."""
        if self._root is None or not self.log_file.exists():
            return "(no server log yet)"
        with self.log_file.open(encoding="utf-8", errors="replace") as log:
            return "".join(collections.deque(log, maxlen=lines)).rstrip("\n")

    # -- lifecycle --

    def start(self, timeout: float = 30.0) -> None:
        """Initialise the cluster if needed, start it, wait until a query succeeds."""
        deadline = time.monotonic() + timeout
        self._prepare(deadline)
        if self.is_running():
            raise PostgresError(f"a server already runs on {self.data_dir}: call stop() or restart()")
        self._launch_on_free_port(deadline)
        self._wait_until_ready(deadline)
        self._port_fixed = True

    def stop(self, mode: StopMode = "fast", timeout: float = 30.0) -> None:
        """Stop the server (no-op when it is not running); data stays."""
        if not self.is_running():
            return
        result = self._pg_ctl(
            ["stop", "-m", mode, "-w", "-t", str(int(timeout))],
            timeout + 10,
            check=False,
        )
        if result.returncode != 0 and self.is_running():
            raise PostgresError(
                f"pg_ctl stop -m {mode} failed for {self.data_dir}: "
                f"{result.stderr.strip() or result.stdout.strip()}\n"
                f"Server log ends with:\n{self.log_tail()}"
            )

    def kill(self) -> None:
        """Stop abruptly, as a crash would (``pg_ctl stop -m immediate``).

        Committed transactions survive; the next start runs crash recovery.
        """
        self.stop(mode="immediate")

    def restart(self, timeout: float = 30.0) -> None:
        """Stop if running, then start again on the same port with the same data."""
        self.stop()
        self.start(timeout)

    def cleanup(self) -> None:
        """Stop the server and remove its files.

        Removes the whole base directory when this object made it, else only the
        ``data`` and ``log`` directories inside the given one.
        """
        self._unregister_atexit()
        if self._root is None:
            return
        if self.is_running():
            self.stop(mode="immediate")
        doomed = [self._root] if self._owns_dir else [self.data_dir, self.log_file.parent]
        for path in doomed:
            if path.exists():
                shutil.rmtree(path)
        if self._owns_dir:
            self._root = None

    def create_database(self, name: str) -> str:
        """Create database ``name`` and return its SQLAlchemy async URL."""
        _validated_name(name)
        if not self.is_running():
            raise PostgresError(f"cannot create database {name!r}: call start() first")
        self._psql("postgres", f'CREATE DATABASE "{name}"')
        return self.url(name)

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
        if self._owns_dir:
            self.cleanup()

    # -- internals --

    def _require_root(self) -> Path:
        if self._root is None:
            raise PostgresError("this server has no directory yet: call start() first")
        return self._root

    def _postmaster_pid(self) -> int | None:
        if self._root is None:
            return None
        try:
            first_line = (self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0]
            return int(first_line)
        except (FileNotFoundError, ValueError):
            return None

    def _prepare(self, deadline: float) -> None:
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix="tienda-pg-"))
            self._root.chmod(0o755)
        self._register_atexit()
        self._root.mkdir(parents=True, exist_ok=True)
        for directory, mode in ((self.data_dir, 0o700), (self.log_file.parent, 0o755)):
            directory.mkdir(mode=mode, exist_ok=True)
            _give_to_server_user(directory)
        self._check_server_user_access()
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb(deadline)

    def _check_server_user_access(self) -> None:
        if not _running_as_root():
            return
        result = _run(
            ["test", "-w", str(self.data_dir), "-a", "-w", str(self.log_file.parent)],
            cwd=Path("/"),
            timeout=10,
            check=False,
        )
        if result.returncode != 0:
            blocker = _first_unsearchable_ancestor(self.data_dir)
            why = f": {blocker} is not searchable by others" if blocker else ""
            raise PostgresError(
                f"the '{SUPERUSER}' OS user cannot write {self.data_dir}{why}. Use "
                "LocalPostgres() without base_dir (it makes /tmp/tienda-pg-*), or a "
                "base_dir whose parents are all world-searchable (pytest's tmp_path "
                "under /tmp/pytest-of-root is 0700 and is not)"
            )

    def _initdb(self, deadline: float) -> None:
        argv = [
            str(self._bin / "initdb"),
            "-D",
            str(self.data_dir),
            "-A",
            "trust",
            "-U",
            SUPERUSER,
            "--encoding=UTF8",
            "--no-locale",
            "--no-sync",
        ]
        try:
            _run(argv, cwd=self.base_dir, timeout=deadline - time.monotonic())
        except PostgresError as exc:
            raise PostgresStartError(
                f"initdb failed for {self.data_dir}: {exc}. If the directory holds a "
                "half-made cluster from an earlier failure, remove it and try again"
            ) from None
        self._write_settings()

    def _write_settings(self) -> None:
        settings = dict(_SETTINGS)
        settings["unix_socket_directories"] = "'" + str(self.data_dir).replace("'", "''") + "'"
        lines = "".join(f"{key} = {value}\n" for key, value in settings.items())
        with (self.data_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write(f"\n# tienda.devkit.postgres\n{lines}")

    def _launch_on_free_port(self, deadline: float) -> None:
        for attempt in range(1, _PORT_ATTEMPTS + 1):
            self._claim_port()
            try:
                self._launch(deadline)
                return
            except PostgresStartError as exc:
                port_lost = "already in use" in str(exc) and not self._port_fixed
                if not port_lost or attempt == _PORT_ATTEMPTS:
                    raise
                self._port = free_port()

    def _claim_port(self) -> None:
        if not accepts_connections(self._port):
            return
        if self._port_fixed:
            raise PostgresStartError(
                f"port {HOST}:{self._port} is already in use: stop what listens there, "
                "or let LocalPostgres pick a port (port=None)"
            )
        self._port = free_port()

    def _launch(self, deadline: float) -> None:
        wait = max(int(deadline - time.monotonic()), 1)
        start = ["start", "-l", str(self.log_file), "-w", "-t", str(wait)]
        result = self._pg_ctl([*start, "-o", f"-p {self._port}"], wait + 10, check=False)
        if result.returncode != 0:
            self._stop_quietly()
            output = result.stderr.strip() or result.stdout.strip()
            raise PostgresStartError(
                f"PostgreSQL did not start on {HOST}:{self._port} "
                f"(pg_ctl exit {result.returncode}: {output}).\n"
                f"Server log {self.log_file} ends with:\n{self.log_tail()}"
            )

    def _wait_until_ready(self, deadline: float) -> None:
        while not (accepts_connections(self._port) and self._answers_query()):
            if time.monotonic() > deadline:
                self._stop_quietly()
                raise PostgresStartError(
                    f"PostgreSQL started but did not answer `SELECT 1` on "
                    f"{HOST}:{self._port} in time.\nServer log ends with:\n{self.log_tail()}"
                )
            time.sleep(0.05)

    def _answers_query(self) -> bool:
        try:
            result = self._psql("postgres", "SELECT 1", check=False)
        except PostgresError:
            return False
        return result.returncode == 0 and result.stdout.strip() == "1"

    def _stop_quietly(self) -> None:
        with contextlib.suppress(PostgresError):
            self.stop(mode="immediate", timeout=10)

    def _pg_ctl(self, args: list[str], timeout: float, *, check: bool) -> subprocess.CompletedProcess[str]:
        argv = [str(self._bin / "pg_ctl"), *args, "-D", str(self.data_dir)]
        return _run(argv, cwd=self.base_dir, timeout=timeout, check=check)

    def _psql(self, database: str, sql: str, *, check: bool = True) -> subprocess.CompletedProcess[str]:
        argv = [
            str(self._bin / "psql"),
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            HOST,
            "-p",
            str(self._port),
            "-U",
            SUPERUSER,
            "-d",
            database,
            "-c",
            sql,
        ]
        return _run(argv, cwd=self.base_dir, timeout=15, check=check)

    def _register_atexit(self) -> None:
        if not self._atexit_registered:
            atexit.register(self._at_exit)
            self._atexit_registered = True

    def _unregister_atexit(self) -> None:
        if self._atexit_registered:
            atexit.unregister(self._at_exit)
            self._atexit_registered = False

    def _at_exit(self) -> None:
        try:
            self.stop(timeout=10)
        except PostgresError:
            self._stop_quietly()
        if self._owns_dir:
            try:
                self.cleanup()
            except (PostgresError, OSError) as exc:
                print(f"tienda.devkit.postgres: cleanup failed: {exc}", file=sys.stderr)


# --- command line ---------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tienda.devkit.postgres",
        description="A throwaway PostgreSQL on 127.0.0.1 (trust auth, user postgres).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("start", help="start, print the URL base, serve until SIGINT/SIGTERM, then stop")
    start.add_argument("--port", type=int, help="port on 127.0.0.1 (default: a free one)")
    start.add_argument(
        "--base-dir",
        type=Path,
        help="keep the cluster here (default: a temp dir, removed)",
    )
    start.add_argument(
        "--database",
        action="append",
        default=[],
        help="create this database (repeatable)",
    )
    args = parser.parse_args(argv)
    return _serve(args.port, args.base_dir, args.database)


def _serve(port: int | None, base_dir: Path | None, databases: list[str]) -> int:
    stop_requested = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop_requested.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, request_stop)
    try:
        server = LocalPostgres(base_dir, port)
        server.start()
        for name in databases:
            server.create_database(name)
    except (PostgresError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        print(server.url_base, flush=True)
        print(
            f"data {server.data_dir}, log {server.log_file}; Ctrl-C stops",
            file=sys.stderr,
        )
        while not stop_requested.wait(0.5):
            pass
    finally:
        server.stop()
        if base_dir is None:
            server.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
