"""Does a request's text describe something to fix (support) or something to buy (commercial)?

A linear model over the text's features (``text_features``): TF-IDF with sublinear term
frequency (1 + ln count), normalised to unit length, and logistic-regression weights. It
is trained with scikit-learn at build time on the labelled corpus in
``services/advisor/corpus/`` and exported to ``support_model.json`` beside this module
(``python -m tienda.devkit.triage_model``; a test fails when the file is stale). The
worker reads the file once and scores in pure Python: no numpy, scipy or scikit-learn in
the worker, whose memory budget they would not fit.

For the features ``f`` of a text, with ``tf = 1 + ln(count)`` and the trained ``idf``
and ``coef`` of each feature the model knows (the others are ignored)::

    score = intercept + sum(tf * idf * coef) / sqrt(sum((tf * idf) ** 2))
    support probability = 1 / (1 + exp(-score))

which is what scikit-learn's ``TfidfVectorizer(sublinear_tf=True)`` followed by
``LogisticRegression.predict_proba`` computes. The text is support when its support
probability reaches the threshold chosen on the corpus' dev split (the threshold is in the
file, with the figures it was chosen on). A decision reads the text's first 2,000
characters (the corpus' longest request has fewer than 400): a request may have 4,000,
and a fault mentioned only after 2,000 characters stays with the executive, who reads it.
"""

import json
import math
from array import array
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from importlib import resources
from itertools import chain, pairwise
from typing import Any

from tienda.advisor.domain.text_features import fold, word_features

MODEL_FILE = "support_model.json"
FORMAT = 1
CHARACTERS_READ = 2000  # the start of the text, where customers say what they need; bounds the time
WORDS_REMEMBERED = 20_000  # the known features of this many distinct words are kept (a few MiB at most)


class Decision(StrEnum):
    SUPPORT = "support"
    COMMERCIAL = "commercial"


@dataclass(frozen=True)
class Classification:
    """The decision on one text, and how sure the model is of it.

    ``support_probability`` is the model's probability that the text is support (0 to 1);
    ``confidence`` is the probability of the decision taken: ``support_probability`` for
    support, ``1 - support_probability`` for commercial. The threshold is not 0.5, so a
    commercial decision close to it can have a confidence a little below 0.5.
    """

    decision: Decision
    confidence: float
    support_probability: float


@dataclass(frozen=True)
class SupportModel:
    """The exported model: per known feature its idf squared and its weight (idf × coefficient)."""

    index: dict[str, int]
    idf_squared: "array[float]"
    weight: "array[float]"
    intercept: float
    threshold: float
    _known: dict[str, tuple[int, ...]] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_export(cls, exported: dict[str, Any]) -> "SupportModel":
        if exported.get("format") != FORMAT:
            raise ValueError(
                f"support model file has format {exported.get('format')!r}, this code reads {FORMAT}: "
                "regenerate it with `python -m tienda.devkit.triage_model`"
            )
        rows: list[list[Any]] = exported["features"]
        return cls(
            index={row[0]: position for position, row in enumerate(rows)},
            idf_squared=array("d", (row[1] * row[1] for row in rows)),
            weight=array("d", (row[1] * row[2] for row in rows)),
            intercept=float(exported["intercept"]),
            threshold=float(exported["threshold"]),
        )

    def support_probability(self, text: str) -> float:
        words = fold(text).split()
        pairs = (self.index.get(f"b:{first} {second}") for first, second in pairwise(words))
        known = chain.from_iterable(map(self._known_features, words))
        counts = Counter(chain((p for p in pairs if p is not None), known))
        once = [position for position, count in counts.items() if count == 1]
        norm = sum(map(self.idf_squared.__getitem__, once))
        dot = sum(map(self.weight.__getitem__, once))
        for position, count in counts.items():
            if count > 1:
                tf = 1.0 + math.log(count)
                norm += tf * tf * self.idf_squared[position]
                dot += tf * self.weight[position]
        return _logistic(self.intercept + (dot / math.sqrt(norm) if norm else 0.0))

    def _known_features(self, word: str) -> tuple[int, ...]:
        """The positions of the word's features that the model knows, remembered for the next time."""
        known = self._known.get(word)
        if known is None:
            if len(self._known) >= WORDS_REMEMBERED:
                self._known.clear()
            known = tuple(p for f in word_features(word) if (p := self.index.get(f)) is not None)
            self._known[word] = known
        return known

    def classify(self, text: str) -> Classification:
        probability = self.support_probability(text[:CHARACTERS_READ])
        if probability >= self.threshold:
            return Classification(Decision.SUPPORT, probability, probability)
        return Classification(Decision.COMMERCIAL, 1.0 - probability, probability)


def _logistic(score: float) -> float:
    """1 / (1 + e^-score), without overflowing for a score far below zero."""
    if score >= 0:
        return 1.0 / (1.0 + math.exp(-score))
    grows = math.exp(score)
    return grows / (1.0 + grows)


@cache
def support_model() -> SupportModel:
    """The model shipped with the package, read once per process."""
    text = resources.files("tienda.advisor.domain").joinpath(MODEL_FILE).read_text(encoding="utf-8")
    return SupportModel.from_export(json.loads(text))


def classify(text: str) -> Classification:
    """Support or commercial, by the shipped model, with its confidence."""
    return support_model().classify(text)
