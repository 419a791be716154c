"""How well and how fast the advisor's support triage classifies, in a process shaped like the worker.

    uv run python bench/triage.py [--split test] [--repeat 20]

Imports the advisor worker's modules first (so the RSS figures start where a worker's
do), then loads the shipped model (``support_model.json``) and prints, for the corpus
split asked for (test by default: the held-out split, never used for tuning):

* support precision and recall, commercial requests misrouted to support, the
  confusion matrix, the misses per label and sub-category with each miss's support
  probability;
* the same figures for the dev split, the support requests reported in issue 19
  (``corpus/reported.jsonl``) and the example set of ``tests/advisor/support_examples.py``;
* milliseconds per request of ``triage`` (the function the service calls: classify, and
  quote when redirecting), p50 and p99 over every corpus text ``--repeat`` times, and
  for a text of 4,000 characters (the contract's maximum);
* the process RSS after the worker's imports, after loading the model, and its peak.

No scikit-learn here: the worker scores in pure Python, and so does this benchmark.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def rss_mib(field: str = "VmRSS") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


import tienda.advisor.bootstrap  # noqa: E402 - the worker's imports, for a worker-like RSS
import tienda.messaging.worker  # noqa: E402, F401

WORKER_RSS = rss_mib()

from tests.advisor.support_examples import COMMERCIAL, SUPPORT  # noqa: E402

from tienda.advisor.domain.support_model import Decision, classify, support_model  # noqa: E402
from tienda.advisor.domain.triage import triage  # noqa: E402
from tienda.devkit import triage_corpus as corpus  # noqa: E402


def decide(text: str) -> tuple[bool, float]:
    classification = classify(text)
    return classification.decision is Decision.SUPPORT, classification.support_probability


def show(title: str, scores: corpus.Scores, misses: bool = True) -> None:
    support = scores.support_redirected + scores.support_kept
    commercial = scores.commercial_redirected + scores.commercial_kept
    print(f"\n{title}: {support} support, {commercial} commercial")
    print(f"  support recall     {scores.support_recall:7.1%}   (target >= 90 %)")
    print(f"  support precision  {scores.support_precision:7.1%}")
    print(
        f"  commercial misrouted to support {scores.commercial_misrouted:5.1%}   "
        f"({scores.commercial_redirected} of {commercial}; target <= 2 %)"
    )
    print("  confusion (rows: label, columns: decision)   support  commercial")
    print(f"    support                                    {scores.support_redirected:7d} {scores.support_kept:11d}")
    print(
        f"    commercial                                 {scores.commercial_redirected:7d} {scores.commercial_kept:11d}"
    )
    if misses and scores.misses:
        print(
            "  misses by label/sub-category: "
            + ", ".join(f"{label}/{topic} {n}" for (label, topic), n in sorted(scores.misses_by_topic().items()))
        )
        for miss in sorted(scores.misses, key=lambda m: (m.example.label, m.example.topic)):
            text = " ".join(miss.example.text.split())
            where = f"{miss.example.label:10s} {miss.example.topic:20s}"
            print(f"    {where} p(support)={miss.support_probability:.2f}  {text[:90]}")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def timing(texts: list[str], repeat: int) -> tuple[list[float], list[float]]:
    """Milliseconds of each call: wall clock, and CPU time of this thread (what the call itself
    costs, without the time the machine gave to other processes)."""
    wall, cpu = [], []
    for _ in range(repeat):
        for text in texts:
            started, started_cpu = time.perf_counter_ns(), time.thread_time_ns()
            triage(False, text)
            cpu.append((time.thread_time_ns() - started_cpu) / 1e6)
            wall.append((time.perf_counter_ns() - started) / 1e6)
    return wall, cpu


def show_times(what: str, times: tuple[list[float], list[float]]) -> None:
    for clock, values in zip(("wall", "CPU"), times, strict=True):
        print(
            f"  {what}, {clock}: p50 {percentile(values, 0.5):.3f} ms, p99 {percentile(values, 0.99):.3f} ms, "
            f"max {max(values):.3f} ms, mean {statistics.fmean(values):.3f} ms over {len(values)} calls"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=corpus.SPLITS, default="test")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    started = time.perf_counter()
    model = support_model()
    load_ms = (time.perf_counter() - started) * 1000
    model_rss = rss_mib()
    requests = corpus.load()
    print(
        f"corpus: {len(requests)} requests; "
        + ", ".join(
            f"{split} {sum(e.split == split and e.is_support for e in requests)} support / "
            f"{sum(e.split == split and not e.is_support for e in requests)} commercial"
            for split in corpus.SPLITS
        )
    )
    print(
        f"model: {len(model.index)} features, threshold {model.threshold:.3f} on p(support); loaded in {load_ms:.0f} ms"
    )

    show(f"{args.split} split", corpus.score(corpus.of_split(requests, args.split), decide))
    if args.split != corpus.DEV:
        show("dev split (the threshold was chosen on it)", corpus.score(corpus.of_split(requests, corpus.DEV), decide))
    show("reported in issue 19 (support)", corpus.score(corpus.load(corpus.REPORTED), decide))
    existing = [corpus.Example(t, corpus.SUPPORT, "existing") for t in SUPPORT]
    existing += [corpus.Example(t, corpus.COMMERCIAL, "existing") for t in COMMERCIAL]
    show("tests/advisor/support_examples.py", corpus.score(existing, decide))

    texts = [example.text for example in requests]
    longest = ("No puedo emitir facturas, me aparece un error al timbrar. " * 80)[:4000]
    varied = " ".join(texts)[:4000]
    print("\ntriage() per request (target <= 5 ms)")
    show_times("corpus requests", timing(texts, args.repeat))
    show_times("4,000 characters, one sentence repeated", timing([longest], 50))
    show_times("4,000 characters, many requests in one", timing([varied], 50))
    print(
        f"\nRSS: worker's imports {WORKER_RSS:.1f} MiB; with the model loaded {model_rss:.1f} MiB "
        f"(+{model_rss - WORKER_RSS:.1f}); now {rss_mib():.1f} MiB, peak {rss_mib('VmHWM'):.1f} MiB (budget 150 MiB)"
    )


if __name__ == "__main__":
    main()
