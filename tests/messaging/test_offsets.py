"""Offsets are committed after the records were handled, at most every interval, and at once
on revocation and stop."""

import asyncio
import time

from aiokafka import TopicPartition
from aiokafka.errors import CommitFailedError

from tests.waiting import eventually
from tienda.messaging.offsets import OffsetCommitter

P0, P1 = TopicPartition("tienda.store.events", 0), TopicPartition("tienda.store.events", 1)


class RecordingConsumer:
    def __init__(self, fail: bool = False) -> None:
        self.commits: list[tuple[float, dict[TopicPartition, int]]] = []
        self.fail = fail

    async def commit(self, positions: dict[TopicPartition, int]) -> None:
        if self.fail:
            raise CommitFailedError("the group rebalanced")
        self.commits.append((time.monotonic(), dict(positions)))


async def test_the_first_batch_commits_at_once_and_the_next_ones_wait_for_the_interval():
    consumer, committer = RecordingConsumer(), OffsetCommitter(interval=0.3)
    await committer.handled(consumer, {P0: 9})
    assert [positions for _, positions in consumer.commits] == [{P0: 10}]
    await committer.handled(consumer, {P0: 14})
    await committer.handled(consumer, {P0: 11, P1: 3})
    assert len(consumer.commits) == 1, "a second commit inside the interval"

    async def two_commits() -> bool:
        return len(consumer.commits) == 2

    await eventually(two_commits, timeout=5, what="the deferred commit")
    (first_at, _), (second_at, positions) = consumer.commits
    assert positions == {P0: 15, P1: 4}, "the highest position of each partition, past its last record"
    assert second_at - first_at >= 0.3 - 0.01


async def test_an_interval_of_zero_commits_every_batch():
    consumer, committer = RecordingConsumer(), OffsetCommitter(interval=0)
    await committer.handled(consumer, {P0: 0})
    await committer.handled(consumer, {P0: 1})
    assert [positions for _, positions in consumer.commits] == [{P0: 1}, {P0: 2}]


async def test_revoked_partitions_commit_what_is_pending_before_the_rebalance():
    consumer, committer = RecordingConsumer(), OffsetCommitter(interval=60)
    await committer.handled(consumer, {P0: 1})
    await committer.handled(consumer, {P1: 7})
    await committer.on_partitions_revoked({P0, P1})
    assert [positions for _, positions in consumer.commits] == [{P0: 2}, {P1: 8}]
    await committer.close()


async def test_stopping_commits_what_is_pending_and_every_later_batch_at_once():
    consumer, committer = RecordingConsumer(), OffsetCommitter(interval=60)
    await committer.handled(consumer, {P0: 1})
    await committer.handled(consumer, {P0: 5})
    await committer.close()
    assert [positions for _, positions in consumer.commits] == [{P0: 2}, {P0: 6}]
    await committer.handled(consumer, {P0: 6})
    assert consumer.commits[-1][1] == {P0: 7}
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "offset-commit"], "a timer left behind"


async def test_a_failed_commit_is_logged_and_the_worker_goes_on(caplog):
    consumer, committer = RecordingConsumer(fail=True), OffsetCommitter(interval=0)
    await committer.handled(consumer, {P0: 3})
    assert "not committed" in caplog.text
    assert "the next owner will dedupe them" in caplog.text
    consumer.fail = False
    await committer.handled(consumer, {P0: 4})
    assert consumer.commits[-1][1] == {P0: 5}
