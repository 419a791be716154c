"""The advisor's tests print their figures on the held-out corpus split at the end of the run."""

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from tests.advisor.unit.test_triage_corpus import REPORT  # noqa: PLC0415 - filled while the tests ran

    if REPORT:
        terminalreporter.section("support triage")
        for line in REPORT:
            terminalreporter.write_line(line)
