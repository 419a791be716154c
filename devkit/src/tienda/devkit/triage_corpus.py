"""The labelled corpus of the advisor's support triage, its splits, and how a classifier scores on it.

The corpus is ``services/advisor/corpus/requests.jsonl``: one request a line, with its
``text``, its ``label`` (support or commercial), its ``topic`` (the sub-category, e.g.
``sii_rejection`` or ``manual_today``) and its ``split`` (train, dev or test). Read
``services/advisor/corpus/README.md`` before changing it: the test split is never used
for tuning.

Nothing here imports scikit-learn: the benchmark reads the corpus in a process that
should weigh what the worker weighs.
"""

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[4]
CORPUS_DIR = REPO / "services" / "advisor" / "corpus"
REQUESTS = CORPUS_DIR / "requests.jsonl"
REPORTED = CORPUS_DIR / "reported.jsonl"

SUPPORT, COMMERCIAL = "support", "commercial"
LABELS = (SUPPORT, COMMERCIAL)
TRAIN, DEV, TEST = "train", "dev", "test"
SPLITS = (TRAIN, DEV, TEST)

# Position of a request among the new requests of its label and topic, ordered by the
# SHA-256 of its text, modulo 20: 3 of every 20 go to dev, 3 to test, 14 to train.
_DEV_SLOTS, _TEST_SLOTS, _CYCLE = frozenset({3, 10, 16}), frozenset({6, 13, 19}), 20


class CorpusError(ValueError):
    """A line of the corpus that cannot be used, with its file and line number."""


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    topic: str
    split: str | None = None

    @property
    def is_support(self) -> bool:
        return self.label == SUPPORT


def load(path: Path = REQUESTS) -> list[Example]:
    """Every request of a corpus file; an unusable line raises ``CorpusError`` naming it."""
    examples = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            examples.append(_example(json.loads(line), f"{path.name}:{number}"))
    texts = Counter(example.text for example in examples)
    repeated = [text for text, count in texts.items() if count > 1]
    if repeated:
        raise CorpusError(f"{path.name}: the same text appears more than once, keep one: {repeated[0]!r}")
    return examples


def _example(row: dict[str, str], where: str) -> Example:
    example = Example(row.get("text", "").strip(), row.get("label", ""), row.get("topic", ""), row.get("split"))
    if not example.text:
        raise CorpusError(f"{where}: empty text")
    if example.label not in LABELS:
        raise CorpusError(f"{where}: label {example.label!r} is not one of {LABELS}")
    if not example.topic:
        raise CorpusError(f"{where}: no topic; give the sub-category, e.g. sii_rejection or quote")
    if example.split not in (*SPLITS, None):
        raise CorpusError(f"{where}: split {example.split!r} is not one of {SPLITS} (or absent, to be assigned)")
    return example


def of_split(examples: Iterable[Example], split: str) -> list[Example]:
    return [example for example in examples if example.split == split]


def assign_splits(examples: Sequence[Example]) -> list[Example]:
    """Give a split to the requests that have none, stratified by label and topic; the others keep theirs.

    Deterministic: the new requests of each label and topic are ordered by the SHA-256 of
    their text and dealt 14 to train, 3 to dev, 3 to test of every 20. A request never
    changes split once it has one, so adding requests never moves a test request into
    training.
    """
    new: dict[tuple[str, str], list[Example]] = defaultdict(list)
    for example in examples:
        if example.split is None:
            new[(example.label, example.topic)].append(example)
    dealt: dict[str, str] = {}
    for members in new.values():
        members.sort(key=lambda example: hashlib.sha256(example.text.encode()).hexdigest())
        for position, example in enumerate(members):
            slot = position % _CYCLE
            dealt[example.text] = DEV if slot in _DEV_SLOTS else TEST if slot in _TEST_SLOTS else TRAIN
    return [replace(example, split=dealt.get(example.text, example.split)) for example in examples]


def write(examples: Iterable[Example], path: Path = REQUESTS) -> None:
    lines = (
        json.dumps(
            {"text": example.text, "label": example.label, "topic": example.topic, "split": example.split},
            ensure_ascii=False,
        )
        for example in examples
    )
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def fingerprint(examples: Iterable[Example]) -> str:
    """SHA-256 of the requests as training reads them (text, label, split), in order."""
    digest = hashlib.sha256()
    for example in examples:
        digest.update(json.dumps([example.text, example.label, example.split], ensure_ascii=False).encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class Miss:
    example: Example
    support_probability: float


@dataclass
class Scores:
    """How a classifier did on a set of requests; support is the positive class."""

    support_redirected: int = 0  # true positives
    support_kept: int = 0  # false negatives: a support request left with the executive
    commercial_redirected: int = 0  # false positives: a customer who wanted to buy, sent away
    commercial_kept: int = 0  # true negatives
    misses: list[Miss] = field(default_factory=list)

    @property
    def support_recall(self) -> float:
        return _ratio(self.support_redirected, self.support_redirected + self.support_kept)

    @property
    def support_precision(self) -> float:
        return _ratio(self.support_redirected, self.support_redirected + self.commercial_redirected)

    @property
    def commercial_misrouted(self) -> float:
        """Share of the commercial requests redirected to support."""
        return _ratio(self.commercial_redirected, self.commercial_redirected + self.commercial_kept)

    def misses_by_topic(self) -> dict[tuple[str, str], int]:
        return dict(Counter((miss.example.label, miss.example.topic) for miss in self.misses))


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else float("nan")


def score(examples: Iterable[Example], is_support: Callable[[str], tuple[bool, float]]) -> Scores:
    """Run ``is_support`` (the decision and the support probability) on every request and count."""
    scores = Scores()
    for example in examples:
        redirected, probability = is_support(example.text)
        if example.is_support and redirected:
            scores.support_redirected += 1
        elif example.is_support:
            scores.support_kept += 1
        elif redirected:
            scores.commercial_redirected += 1
        else:
            scores.commercial_kept += 1
        if redirected != example.is_support:
            scores.misses.append(Miss(example, probability))
    return scores
