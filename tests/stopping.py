"""A test run stopped with SIGTERM (a CI timeout, `kill`, a supervisor) ends as Ctrl-C does:
pytest tears every fixture down, so no broker, PostgreSQL server or worker it started outlives it.

Without this, SIGTERM ends pytest at once and the processes the fixtures started in their own
sessions (Kafka, PostgreSQL, workers) keep running and keep their ports."""

import signal
from types import FrameType

import pytest


def pytest_configure(config: pytest.Config) -> None:
    signal.signal(signal.SIGTERM, _stop_as_on_ctrl_c)


def _stop_as_on_ctrl_c(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"stopped by signal {signal.Signals(signum).name}; tearing down what the run started")
