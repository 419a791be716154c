"""A test run stopped with SIGTERM tears down what its fixtures started (tests/stopping.py)."""

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.waiting import eventually

ROOT = Path(__file__).resolve().parents[2]

A_RUN_WITH_A_SERVER = """
import subprocess, time
from pathlib import Path

import pytest

@pytest.fixture
def server():
    process = subprocess.Popen(["sleep", "300"], start_new_session=True)
    Path("server.pid").write_text(str(process.pid))
    yield process
    process.kill()
    process.wait()
    Path("torn-down").write_text("yes")

def test_runs_until_stopped(server):
    Path("running").write_text("yes")
    time.sleep(300)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_a_run_stopped_with_sigterm_tears_down_the_processes_its_fixtures_started(tmp_path):
    (tmp_path / "test_server.py").write_text(A_RUN_WITH_A_SERVER)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    run = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "tests.stopping", "-p", "no:cacheprovider", "test_server.py"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        await eventually(lambda: _exists(tmp_path / "running"), timeout=60, what="the inner test running")
        server = int((tmp_path / "server.pid").read_text())

        run.send_signal(signal.SIGTERM)
        output, _ = await asyncio.to_thread(run.communicate, timeout=60)
    finally:
        if run.poll() is None:
            run.kill()

    assert (tmp_path / "torn-down").exists(), output.decode()
    assert not _alive(server)
    assert b"stopped by signal SIGTERM" in output


async def _exists(path: Path) -> bool:
    return path.exists()
