"""What the messaging core did, counted; readable by tests and exported as metrics."""

from dataclasses import asdict, dataclass


@dataclass
class Counters:
    """Running totals of one worker process."""

    consumed: int = 0
    processed: int = 0
    rejected: int = 0
    deduplicated: int = 0
    ignored: int = 0
    retried: int = 0
    dead_lettered: int = 0
    published: int = 0
    publish_failures: int = 0

    def snapshot(self) -> dict[str, int]:
        return asdict(self)
