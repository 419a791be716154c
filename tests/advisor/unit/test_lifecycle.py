"""Requests move open → in progress → resolved → closed; closed is final; redirected may only close."""

from datetime import UTC, datetime, timedelta

import pytest

from tienda.advisor.domain.lifecycle import Status, is_overdue, may_become

NOW = datetime(2026, 3, 16, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("current", "wanted", "allowed"),
    [
        (Status.OPEN, Status.IN_PROGRESS, True),
        (Status.OPEN, Status.CLOSED, True),
        (Status.IN_PROGRESS, Status.RESOLVED, True),
        (Status.RESOLVED, Status.IN_PROGRESS, True),
        (Status.RESOLVED, Status.CLOSED, True),
        (Status.CLOSED, Status.IN_PROGRESS, False),
        (Status.CLOSED, Status.CLOSED, True),
        (Status.REDIRECTED, Status.IN_PROGRESS, False),
        (Status.REDIRECTED, Status.CLOSED, True),
    ],
)
def test_what_the_executives_tools_may_change(current, wanted, allowed):
    assert may_become(current, wanted) is allowed


def test_a_request_is_overdue_once_its_due_time_passes_without_a_response():
    due = NOW - timedelta(minutes=1)
    assert is_overdue(due, None, NOW)
    assert not is_overdue(due, due - timedelta(hours=1), NOW)
    assert not is_overdue(NOW + timedelta(minutes=1), None, NOW)
    assert not is_overdue(None, None, NOW)
