"""The advisor worker's memory and speed on commercial requests, on a real broker.

    uv run python bench/advisor_requests.py [--requests 1000] [--accounts 200] [--corrections 50]

Starts a Kafka broker (or uses KAFKA_BOOTSTRAP_SERVERS) and the advisor worker as a process
(SQLite, a rotation of three executives), reads the worker's RSS once it is ready, publishes
``--requests`` CommercialRequestSubmitted (the corpus' texts in turn, one in ten sent with the
kind support) over ``--accounts`` accounts, waits until every one is assigned or redirected,
then ``--corrections`` executives' corrections, and prints: the worker's RSS after start,
after the requests and at its peak (VmHWM); the latency from a request's record to its
announcement's (broker timestamps), p50/p99; and the worker's CPU per request.
"""

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tienda.contracts.envelope import new_envelope  # noqa: E402
from tienda.contracts.messages.advisor import (  # noqa: E402
    CommercialRequestSubmitted,
    CommercialRequestUpdated,
    ContactChannel,
    PreferredContact,
    RequestKind,
    RequestStatus,
    TriageCorrection,
)
from tienda.contracts.topics import ADVISOR_EVENTS, ADVISOR_REQUESTS  # noqa: E402
from tienda.contracts.types import Person  # noqa: E402
from tienda.devkit import triage_corpus  # noqa: E402
from tienda.devkit.kafka import LocalKafka  # noqa: E402
from tienda.devkit.workers import WorkerProcess, worker_env  # noqa: E402
from tienda.messaging.codec import encode  # noqa: E402
from tienda.messaging.provisioning import ensure_topics  # noqa: E402

ROSTER = [
    {"id": "ej-bench-paula", "name": "Paula Fuentes", "email": "paula.fuentes@tienda.cl"},
    {"id": "ej-bench-matias", "name": "Matías Soto", "email": "matias.soto@tienda.cl"},
    {"id": "ej-bench-valentina", "name": "Valentina Muñoz", "email": "valentina.munoz@tienda.cl"},
]
ANNOUNCED = {"CommercialRequestAssigned", "CommercialRequestRedirected"}
CAMILA = Person(user_id="u-camila", name="Camila Rojas", email="camila.rojas@ferreteria-rojas.cl")


def status_kib(pid: int | None, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int | None) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def requests(count: int, accounts: list[str]) -> list[tuple[str, str, bytes]]:
    texts = [example.text for example in triage_corpus.load()]
    out = []
    for n in range(count):
        kind = RequestKind.SUPPORT if n % 10 == 9 else RequestKind.OTHER_COMMERCIAL
        payload = CommercialRequestSubmitted(
            request_id=f"sol-bench-{n:05d}",
            requested_by=CAMILA,
            kind=kind,
            text=texts[n % len(texts)],
            preferred_contact=PreferredContact(channel=ContactChannel.EMAIL, value=CAMILA.email),
        )
        envelope = new_envelope(payload, account_id=accounts[n % len(accounts)], producer="bench")
        out.append((envelope.account_id, payload.request_id, encode(envelope)))
    return out


def corrections(announced: dict[str, dict[str, Any]], count: int) -> list[tuple[str, bytes]]:
    out = []
    for message in list(announced.values())[:count]:
        redirected = message["type"] == "CommercialRequestRedirected"
        payload = CommercialRequestUpdated(
            request_id=message["payload"]["request_id"],
            status=RequestStatus.IN_PROGRESS if redirected else RequestStatus.CLOSED,
            executive_id="ej-bench-paula",
            correction=TriageCorrection.RECLASSIFIED_COMMERCIAL
            if redirected
            else TriageCorrection.REDIRECTED_TO_SUPPORT,
        )
        envelope = new_envelope(payload, account_id=message["account_id"], producer="bench")
        out.append((envelope.account_id, encode(envelope)))
    return out


async def produce(bootstrap: str, messages: list[tuple[str, bytes]]) -> dict[str, int]:
    """Publish; the broker timestamp (ms) of each record, by key and order."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5)
    await producer.start()
    try:
        futures = [await producer.send(ADVISOR_REQUESTS.name, value, key=key.encode()) for key, value in messages]
        return {str(n): (await future).timestamp for n, future in enumerate(futures)}
    finally:
        await producer.stop()


async def announcements(
    bootstrap: str, wanted: set[str], types: set[str], corrected: bool = False, within: float = 600
) -> dict[str, dict[str, Any]]:
    """The advisor's announcements of these request ids (by request id), with their record timestamps;
    with ``corrected``, only those that follow an executive's correction."""
    consumer = AIOKafkaConsumer(
        ADVISOR_EVENTS.name, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    found: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + within
    try:
        while len(found) < len(wanted) and time.monotonic() < deadline:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                for record in batch:
                    message = json.loads(record.value)
                    request_id = message.get("payload", {}).get("request_id")
                    after_correction = bool((message["payload"].get("triage") or {}).get("corrected_by"))
                    if message["type"] in types and request_id in wanted and after_correction == corrected:
                        found[request_id] = message | {"timestamp": record.timestamp}
    finally:
        await consumer.stop()
    return found


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def run(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="tienda-bench-advisor-"))
    kafka = None if os.environ.get("KAFKA_BOOTSTRAP_SERVERS") else LocalKafka(work / "kafka")
    worker = None
    try:
        bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or kafka.start(timeout=90)  # type: ignore[union-attr]
        await ensure_topics(bootstrap)
        env = worker_env(
            "advisor", bootstrap, f"sqlite+aiosqlite:///{work / 'advisor.db'}", executives=json.dumps(ROSTER)
        )
        worker = WorkerProcess("advisor", env, work / "advisor.log")
        worker.start()
        rss_started = status_kib(worker.pid, "VmRSS")
        cpu_started = cpu_seconds(worker.pid)
        run_id = os.urandom(3).hex()
        accounts = [f"acc-bench-{run_id}-{n:04d}" for n in range(args.accounts)]
        sent = requests(args.requests, accounts)
        started = time.monotonic()
        stamps = await produce(bootstrap, [(account, value) for account, _, value in sent])
        found = await announcements(bootstrap, {request_id for _, request_id, _ in sent}, ANNOUNCED)
        seconds = time.monotonic() - started
        cpu = cpu_seconds(worker.pid) - cpu_started
        rss_after = status_kib(worker.pid, "VmRSS")
        latencies = [
            found[request_id]["timestamp"] - stamps[str(n)]
            for n, (_, request_id, _) in enumerate(sent)
            if request_id in found
        ]
        corrected = corrections(found, args.corrections)
        corrected_ids = {json.loads(value)["payload"]["request_id"] for _, value in corrected}
        if corrected:
            await produce(bootstrap, corrected)
            applied = await announcements(bootstrap, corrected_ids, ANNOUNCED, corrected=True)
            assert len(applied) == len(corrected_ids), f"{len(applied)} of {len(corrected_ids)} corrections applied"
        redirected = sum(1 for message in found.values() if message["type"] == "CommercialRequestRedirected")
        return {
            "requests": args.requests,
            "announced": len(found),
            "redirected": redirected,
            "corrections_applied": len(corrected_ids),
            "seconds": round(seconds, 2),
            "worker_cpu_ms_per_request": round(1000 * cpu / max(len(found), 1), 2),
            "latency_ms": {
                "p50": percentile(latencies, 0.5),
                "p99": percentile(latencies, 0.99),
                "mean": round(statistics.fmean(latencies), 1),
            },
            "rss_mib": {
                "after_start": round(rss_started, 1),
                "after_requests": round(rss_after, 1),
                "after_corrections": round(status_kib(worker.pid, "VmRSS"), 1),
                "peak": round(status_kib(worker.pid, "VmHWM"), 1),
            },
        }
    finally:
        if worker:
            worker.stop()
        if kafka:
            kafka.stop()
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--corrections", type=int, default=50)
    result = asyncio.run(run(parser.parse_args()))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
