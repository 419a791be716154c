"""The support classifier scores a text in pure Python by the formula it documents, from exported weights."""

import math

import pytest

from tienda.advisor.domain.support_model import Decision, SupportModel
from tienda.advisor.domain.text_features import features, fold


def small_model(threshold: float = 0.5) -> SupportModel:
    return SupportModel.from_export(
        {
            "format": 1,
            "intercept": -0.5,
            "threshold": threshold,
            "features": [["b:no puedo", 1.5, 2.0], ["w:cotizar", 1.0, -4.0], ["w:error", 2.0, 3.0]],
        }
    )


def sigmoid(score: float) -> float:
    return 1 / (1 + math.exp(-score))


def test_a_text_is_scored_by_tf_idf_with_sublinear_counts_and_the_logistic_weights():
    # "error" twice: tf 1 + ln 2; "cotizar" once: tf 1; every other feature is unknown to the model.
    error, cotizar = (1 + math.log(2)) * 2.0, 1.0 * 1.0
    expected = sigmoid(-0.5 + (error * 3.0 + cotizar * -4.0) / math.hypot(error, cotizar))
    assert small_model().support_probability("Error, ERROR: cotizar") == pytest.approx(expected, rel=1e-12)


def test_a_text_the_model_knows_nothing_of_gets_the_intercept_alone():
    assert small_model().support_probability("zzzz") == pytest.approx(sigmoid(-0.5))


def test_a_word_pair_counts_as_a_feature_of_its_own():
    assert small_model().support_probability("no puedo") == pytest.approx(sigmoid(-0.5 + 2.0))


def test_from_the_threshold_up_the_text_is_support_and_the_confidence_is_its_probability():
    probability = sigmoid(-0.5 + 3.0)
    at_threshold = small_model(threshold=probability).classify("error")
    assert (at_threshold.decision, at_threshold.confidence) == (Decision.SUPPORT, pytest.approx(probability))


def test_below_the_threshold_the_text_is_commercial_and_the_confidence_is_the_rest():
    commercial = small_model(threshold=0.95).classify("error")
    assert commercial.decision is Decision.COMMERCIAL
    assert commercial.confidence == pytest.approx(1 - commercial.support_probability)


def test_a_model_file_of_another_format_is_refused_with_the_command_that_regenerates_it():
    with pytest.raises(ValueError, match=r"format 2.*python -m tienda\.devkit\.triage_model"):
        SupportModel.from_export({"format": 2, "intercept": 0, "threshold": 0.5, "features": []})


def test_folding_drops_case_and_accents_and_keeps_no_digit_values():
    assert fold("CONTRASEÑA Rechazó la Factura N°1234, ¡error 502!") == "contrasena rechazo la factura n 0 error 0"


def test_a_misspelt_word_keeps_the_letter_pieces_away_from_the_typo():
    right, typo = set(features("facturacion")), set(features("facturasion"))
    assert {"c: fac", "c:factu", "c:ion "} <= right & typo
    assert "w:facturacion" not in typo


def test_a_word_written_without_its_accent_or_tilde_is_the_same_word():
    assert features("contraseña rechazó") == features("contrasena rechazo")


def test_a_negation_stays_with_its_verb_as_a_word_pair():
    assert "b:no funciona" in features("Hoy NO funciona.")


def test_a_decision_reads_the_first_2000_characters_of_the_text():
    model = small_model(threshold=0.6)
    assert model.classify("cotizar " * 250 + "error " * 200).decision is Decision.COMMERCIAL
    assert model.classify("error " * 200 + "cotizar " * 250).decision is Decision.SUPPORT


def test_an_overwhelming_score_either_way_gives_a_probability_without_overflow():
    lopsided = SupportModel.from_export(
        {
            "format": 1,
            "intercept": 0.0,
            "threshold": 0.5,
            "features": [["w:error", 1.0, 5000.0], ["w:cotizar", 1.0, -5000.0]],
        }
    )
    assert (lopsided.support_probability("error"), lopsided.support_probability("cotizar")) == (1.0, 0.0)
