"""A worker's periodic job: every round, only on the replica that leads, failures retried."""

import asyncio

from tienda.messaging.periodic import every


async def test_a_job_runs_only_in_rounds_where_this_replica_leads_and_survives_failures():
    leads, ran = [False], asyncio.Event()
    calls = []

    async def step():
        calls.append(leads[0])
        if len(calls) == 1:
            raise RuntimeError("database away this round")
        ran.set()

    rounds = []

    def when() -> bool:
        rounds.append(leads[0])
        return leads[0]

    task = asyncio.create_task(every(0.01, step, "test job", when))
    try:
        while len(rounds) < 3:
            await asyncio.sleep(0.01)
        assert calls == []  # a standby never runs the job
        leads[0] = True
        await asyncio.wait_for(ran.wait(), 5)  # the first run failed and the next round ran it again
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert calls[:2] == [True, True]
