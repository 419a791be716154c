"""Consumer offsets committed after the records were handled, at most every so often.

A record's position is committed only after its transaction committed or its dead letter
was acknowledged, as before; but one OffsetCommit round trip per batch is a request to the
broker and a wait in the consumer's loop for every message when traffic is light (bench:
one of the 14 broker requests a cart costs, per service). So positions are gathered and
committed at most every ``interval`` seconds, once more when partitions are revoked (a
rebalance), and at once while the worker stops. Positions left uncommitted by a crash are
read again by the next owner and dropped by its inbox: redelivery is bounded by the
interval and costs nothing but the reading.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from typing import Any

from aiokafka import ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError

log = logging.getLogger(__name__)


class OffsetCommitter(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka is untyped
    """The positions one subscriber handled and has not committed yet."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._pending: dict[TopicPartition, int] = {}
        self._consumer: Any = None
        self._last_commit = 0.0
        self._later: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._closing = False

    async def handled(self, consumer: Any, last_offsets: Mapping[TopicPartition, int]) -> None:
        """Records up to these offsets are done with: their positions go with the next commit."""
        self._consumer = consumer
        for partition, offset in last_offsets.items():
            self._pending[partition] = max(self._pending.get(partition, 0), offset + 1)
        wait = self._last_commit + self.interval - time.monotonic()
        if self._closing or wait <= 0:
            await self.flush()
        elif self._later is None:
            self._later = asyncio.create_task(self._flush_after(wait), name="offset-commit")

    async def flush(self) -> None:
        """Commit what is pending now; a rebalance that took a partition is harmless (inbox)."""
        async with self._lock:
            positions, self._pending = self._pending, {}
            if not positions or self._consumer is None:
                return
            self._last_commit = time.monotonic()
            try:
                await self._consumer.commit(positions)
            except KafkaError as error:
                log.warning("offsets %s not committed (%s); the next owner will dedupe them", positions, error)

    async def close(self) -> None:
        """The worker stops: commit what is pending, and from now on every batch at once."""
        self._closing = True
        if self._later is not None:
            self._later.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._later
        await self.flush()

    async def on_partitions_revoked(self, revoked: Any) -> None:
        await self.flush()

    async def on_partitions_assigned(self, assigned: Any) -> None:
        """Nothing to do: positions come from the group's committed offsets."""

    async def _flush_after(self, seconds: float) -> None:
        try:
            await asyncio.sleep(seconds)
        finally:
            self._later = None
        await self.flush()
