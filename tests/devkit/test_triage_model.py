"""The support classifier's committed weights are what training gives, and score as scikit-learn does."""

import json

import pytest

from tienda.advisor.domain.support_model import support_model
from tienda.devkit.triage_corpus import DEV, TEST, TRAIN, Example, assign_splits, load, of_split
from tienda.devkit.triage_model import MODEL_FILE, choose_threshold, export, fit, stale_reasons

COMMITTED = json.loads(MODEL_FILE.read_text(encoding="utf-8"))


def test_the_committed_weights_are_what_training_on_the_corpus_gives():
    reasons = stale_reasons(COMMITTED, export(load()))
    assert reasons == [], "run `make triage-model` and commit support_model.json"


def test_the_pure_python_scoring_gives_scikit_learns_probabilities():
    corpus = load()
    trained = fit(of_split(corpus, TRAIN), COMMITTED["c"])
    texts = [example.text for example in of_split(corpus, DEV)]
    expected = trained.support_probabilities(texts)
    assert [support_model().support_probability(text) for text in texts] == pytest.approx(list(expected), abs=1e-5)


def test_the_threshold_keeps_every_commercial_request_of_a_small_dev_split_and_sits_halfway():
    probabilities = [0.10, 0.30, 0.55, 0.60, 0.90, 0.95]
    is_support = [False, False, True, False, True, True]
    assert choose_threshold(probabilities, is_support) == pytest.approx((0.60 + 0.90) / 2)


def test_a_threshold_may_give_up_one_commercial_request_in_a_hundred():
    probabilities = [i / 1000 for i in range(100)] + [0.5, 0.6, 0.7]
    is_support = [False] * 99 + [False, True, True, True]
    assert choose_threshold(probabilities, is_support) == pytest.approx((0.098 + 0.099) / 2)


def test_new_requests_are_dealt_14_to_train_3_to_dev_3_to_test_and_old_ones_keep_their_split():
    new = [Example(f"pedido número {i}", "commercial", "quote") for i in range(40)]
    kept = Example("ya tenía su split", "commercial", "quote", TEST)
    dealt = assign_splits([kept, *new])
    assert dealt[0] == kept
    assert {split: sum(e.split == split for e in dealt[1:]) for split in (TRAIN, DEV, TEST)} == {
        TRAIN: 28,
        DEV: 6,
        TEST: 6,
    }
    assert assign_splits(new) == assign_splits(list(reversed(new)))[::-1]
