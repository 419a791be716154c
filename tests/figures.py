"""Figures the tests measure (start times, recovery times, memory), printed after the results."""

FIGURES: list[tuple[str, str]] = []


def record(name: str, value: str) -> None:
    """Keep a figure for the summary at the end of the run (``pytest_terminal_summary``)."""
    FIGURES.append((name, value))
    print(f"{name}: {value}")
