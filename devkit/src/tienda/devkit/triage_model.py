"""`python -m tienda.devkit.triage_model`: train the advisor's support classifier and export its weights.

    python -m tienda.devkit.triage_model            train; write services/advisor/.../support_model.json
    python -m tienda.devkit.triage_model --check    exit 1 when the committed file is not what training gives
    python -m tienda.devkit.triage_model --split    give a split to corpus requests added without one

Training reads only the corpus' train and dev splits, never test:

1. the features of ``tienda.advisor.domain.text_features`` (words, word pairs, 3 to 5
   letter pieces), weighted by TF-IDF with sublinear term frequency, L2-normalised;
2. a logistic regression (liblinear, L2), its regularisation ``C`` chosen among
   ``C_GRID`` by 5-fold cross-validated log-loss on the train split;
3. the model is fitted on the train split; the threshold on the support probability is
   chosen on the dev split: the lowest one that sends at most ``MAX_DEV_MISROUTED`` of
   the dev split's commercial requests to support, placed halfway between the two dev
   probabilities it separates.

The exported file holds the vocabulary with each feature's idf and coefficient, the
intercept, the threshold, the dev figures and a fingerprint of the requests trained on;
``tienda.advisor.domain.support_model`` scores with it in pure Python.
"""

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold

from tienda.devkit.triage_corpus import DEV, REPO, TRAIN, Example, assign_splits, fingerprint, load, of_split, write

MODEL_FILE = REPO / "services" / "advisor" / "src" / "tienda" / "advisor" / "domain" / "support_model.json"
FORMAT = 1
C_GRID = (30.0, 100.0, 300.0, 1000.0)  # the cross-validated loss falls to 300 and is flat from there
MAX_DEV_MISROUTED = 0.01
FOLDS = 5
DIGITS = 6  # decimals kept in the file: far below what changes a decision, and a stable diff


def _features() -> Callable[[str], list[str]]:
    from tienda.advisor.domain.text_features import features  # noqa: PLC0415 - tools import services lazily

    return features


@dataclass
class Trained:
    vectorizer: TfidfVectorizer
    model: LogisticRegression

    def support_probabilities(self, texts: Sequence[str]) -> np.ndarray[Any, np.dtype[np.float64]]:
        probabilities: np.ndarray[Any, np.dtype[np.float64]] = self.model.predict_proba(
            self.vectorizer.transform(texts)
        )[:, 1]
        return probabilities


def fit(examples: Sequence[Example], c: float, tol: float = 1e-8) -> Trained:
    """Vectorize and fit; ``tol`` far below liblinear's default so that the solution does not
    depend on the order of floating-point sums (the committed file must be reproducible)."""
    vectorizer = TfidfVectorizer(analyzer=_features(), sublinear_tf=True)
    matrix = vectorizer.fit_transform([example.text for example in examples])
    model = _classifier(c, tol).fit(matrix, [example.is_support for example in examples])
    return Trained(vectorizer, model)


def _classifier(c: float, tol: float) -> LogisticRegression:
    return LogisticRegression(C=c, solver="liblinear", tol=tol, max_iter=100_000, random_state=0)


def choose_c(train: Sequence[Example]) -> float:
    """The C of ``C_GRID`` with the lowest out-of-fold log-loss on the train split.

    Ranking needs no tight convergence: liblinear's default tolerance, each fold vectorized once.
    """
    labels = np.array([example.is_support for example in train])
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=0).split(np.zeros(len(train)), labels)
    out_of_fold = {c: np.zeros(len(train)) for c in C_GRID}
    for fitted_on, held_out in folds:
        vectorizer = TfidfVectorizer(analyzer=_features(), sublinear_tf=True)
        matrix = vectorizer.fit_transform([train[i].text for i in fitted_on])
        held_out_matrix = vectorizer.transform([train[i].text for i in held_out])
        for c in C_GRID:
            model = _classifier(c, tol=1e-4).fit(matrix, labels[fitted_on])
            out_of_fold[c][held_out] = model.predict_proba(held_out_matrix)[:, 1]
    return min(C_GRID, key=lambda c: float(log_loss(labels, out_of_fold[c])))


def choose_threshold(probabilities: Sequence[float], is_support: Sequence[bool]) -> float:
    """The lowest threshold sending at most ``MAX_DEV_MISROUTED`` of the commercial requests to support."""
    commercial = sorted((p for p, support in zip(probabilities, is_support, strict=True) if not support), reverse=True)
    allowed = int(MAX_DEV_MISROUTED * len(commercial))
    highest_kept = commercial[allowed] if allowed < len(commercial) else 0.0
    above = sorted(p for p in probabilities if p > highest_kept)
    return (highest_kept + above[0]) / 2 if above else (highest_kept + 1.0) / 2


def export(examples: Sequence[Example]) -> dict[str, Any]:
    """Train on the train split, choose the threshold on the dev split, and return the file's content."""
    train, dev = of_split(examples, TRAIN), of_split(examples, DEV)
    c = choose_c(train)
    trained = fit(train, c)
    dev_probabilities = [float(p) for p in trained.support_probabilities([example.text for example in dev])]
    threshold = choose_threshold(dev_probabilities, [example.is_support for example in dev])
    redirected = [p >= threshold for p in dev_probabilities]
    support = [example.is_support for example in dev]
    vocabulary = trained.vectorizer.get_feature_names_out()
    return {
        "format": FORMAT,
        "made_by": "python -m tienda.devkit.triage_model",
        "trained_on": {"train": len(train), "dev": len(dev), "fingerprint": fingerprint([*train, *dev])},
        "c": c,
        "threshold": round(threshold, DIGITS),
        "dev": {
            "support_recall": round(_share(redirected, support, True), 4),
            "commercial_misrouted": round(_share(redirected, support, False), 4),
        },
        "intercept": round(float(trained.model.intercept_[0]), DIGITS),
        "features": [
            [str(feature), round(float(idf), DIGITS), round(float(coefficient), DIGITS)]
            for feature, idf, coefficient in zip(
                vocabulary, trained.vectorizer.idf_, trained.model.coef_[0], strict=True
            )
        ],
    }


def _share(redirected: Sequence[bool], support: Sequence[bool], label: bool) -> float:
    of_label = [r for r, s in zip(redirected, support, strict=True) if s is label]
    return sum(of_label) / len(of_label)


def dumps(exported: dict[str, Any]) -> str:
    """The file's text: the header on top, then one feature a line so that a change reads as a diff."""
    header = {key: value for key, value in exported.items() if key != "features"}
    lines = [json.dumps(header, ensure_ascii=False)[:-1] + ', "features": [']
    rows = [json.dumps(row, ensure_ascii=False) for row in exported["features"]]
    lines += [row + "," for row in rows[:-1]] + rows[-1:]
    return "\n".join([*lines, "]}", ""])


def stale_reasons(committed: dict[str, Any], fresh: dict[str, Any]) -> list[str]:
    """What differs between the committed file and a fresh training, beyond rounding."""
    reasons = [
        f"{key} is {committed.get(key)!r}, training gives {fresh[key]!r}"
        for key in ("format", "trained_on", "c")
        if committed.get(key) != fresh[key]
    ]
    for key in ("threshold", "intercept"):
        if abs(float(committed.get(key, "nan")) - fresh[key]) > 2 * 10**-DIGITS:
            reasons.append(f"{key} is {committed.get(key)!r}, training gives {fresh[key]!r}")
    old, new = committed.get("features", []), fresh["features"]
    if [row[0] for row in old] != [row[0] for row in new]:
        reasons.append(f"the vocabulary differs ({len(old)} features committed, {len(new)} trained)")
    elif any(_differs(o, n) for o, n in zip(old, new, strict=True)):
        reasons.append("feature weights differ")
    return reasons


def _differs(committed: list[Any], fresh: list[Any]) -> bool:
    """Whether a feature's idf or coefficient differs by more than the file's rounding."""
    return any(abs(a - b) > 2 * 10**-DIGITS for a, b in zip(committed[1:], fresh[1:], strict=True))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tienda.devkit.triage_model", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the committed weights are stale")
    parser.add_argument("--split", action="store_true", help="give a split to corpus requests without one")
    args = parser.parse_args(argv)
    examples = load()
    if args.split:
        write(assign_splits(examples))
        return 0
    unassigned = [example.text for example in examples if example.split is None]
    if unassigned:
        print(f"{len(unassigned)} requests have no split: run with --split first", file=sys.stderr)
        return 2
    fresh = export(examples)
    if args.check:
        reasons = stale_reasons(json.loads(MODEL_FILE.read_text(encoding="utf-8")), fresh)
        for reason in reasons:
            print(f"{MODEL_FILE.name} is stale: {reason}", file=sys.stderr)
        if reasons:
            print("run `python -m tienda.devkit.triage_model` and commit the file", file=sys.stderr)
        return 1 if reasons else 0
    MODEL_FILE.write_text(dumps(fresh), encoding="utf-8")
    dev = fresh["dev"]
    print(
        f"wrote {Path(MODEL_FILE).relative_to(REPO)}: {len(fresh['features'])} features, C={fresh['c']}, "
        f"threshold {fresh['threshold']:.3f}; dev: support recall {dev['support_recall']:.1%}, "
        f"commercial misrouted {dev['commercial_misrouted']:.1%}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
