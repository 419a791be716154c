"""`make run`'s stack stops everything it started, even when the stop signal comes twice."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tienda.devkit.ports import free_port

pytestmark = [pytest.mark.broker, pytest.mark.timeout(240)]


def children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"


def wait_until(condition: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the stack did not begin to stop"
        time.sleep(0.05)


def test_two_stop_signals_in_a_row_leave_no_worker_or_broker_running(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "KAFKA_BOOTSTRAP_SERVERS"}
    stack = subprocess.Popen(
        [sys.executable, "-m", "tienda.devkit.stack", "--data-dir", str(tmp_path), "--kafka-port", str(free_port())],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert stack.stdout is not None
    said = []
    for line in stack.stdout:
        said.append(line)
        if line.startswith("up in"):
            break
    assert said, "the stack said nothing"
    assert said[-1].startswith("up in"), "".join(said)
    started = children_of(stack.pid)
    assert len(started) == 4, f"a broker and three workers, got {started}"

    stack.send_signal(signal.SIGTERM)
    wait_until(lambda: any(gone(pid) for pid in started))  # the stop is under way: one process is down
    stack.send_signal(signal.SIGTERM)  # as `uv run` forwards one and `timeout` sends another

    assert stack.wait(120) == 0, stack.stdout.read()
    left = [pid for pid in started if not gone(pid)]
    assert left == [], f"still running after the stack exited: {left}"
