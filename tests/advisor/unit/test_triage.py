"""Support requests are redirected by their kind or by their text: ``judge`` by fault phrases (the
previous rule, kept for comparison), ``triage`` by the support classifier (what the service calls),
with its decision's confidence and the words quoted; commercial requests that mention errors in a
commercial sense stay with the executive."""

import pytest

from tests.advisor.support_examples import COMMERCIAL, SUPPORT
from tienda.advisor.domain.support_model import classify, support_model
from tienda.advisor.domain.triage import (
    QUOTE_CHARACTERS,
    Decision,
    RedirectReason,
    customer_message,
    judge,
    normalize,
    triage,
)
from tienda.devkit.triage_corpus import REPORTED, load


@pytest.mark.parametrize("text", COMMERCIAL)
def test_a_commercial_request_stays_with_the_executive(text):
    verdict = judge(False, text)
    assert not verdict.redirect, f"redirected on {verdict.matched!r}"


@pytest.mark.parametrize("text", SUPPORT)
def test_a_text_plainly_describing_a_fault_is_redirected(text):
    verdict = judge(False, text)
    assert verdict.reason is RedirectReason.FAULT_DESCRIBED
    assert verdict.matched
    assert verdict.matched in " ".join(text.split())


def test_the_kind_support_is_redirected_whatever_the_text_says():
    verdict = judge(True, "Quisiera una demostración del módulo de Remuneraciones.")
    assert (verdict.reason, verdict.matched) == (RedirectReason.SUPPORT_KIND, None)


def test_the_words_that_decided_are_quoted_as_the_customer_wrote_them():
    verdict = judge(False, "Buenas tardes. NO PUEDO INGRESAR al sistema, ¿qué pasó?")
    assert verdict.matched == "NO PUEDO INGRESAR"


def test_accents_and_capitals_do_not_hide_a_fault():
    assert judge(False, "Olvidé mi CONTRASEÑA").redirect
    assert judge(False, "olvide mi contrasena").redirect


def test_normalizing_keeps_one_character_per_character():
    text = "¿Está fallando la emisión? Sí, «error 500»."
    assert len(normalize(text)) == len(text)
    assert normalize("Contraseña ÁRBOL") == "contrasena arbol"


def test_the_customer_is_told_where_to_go_and_that_the_message_was_kept():
    message = customer_message(judge(False, "No puedo ingresar desde ayer"), "sol-2026-0117")
    assert "Chat de Soporte" in message
    assert "no es un canal de soporte" in message
    assert "«No puedo ingresar»" in message
    assert "sol-2026-0117" in message


def test_the_example_set_is_judged_without_a_miss():
    missed = [text for text in SUPPORT if not judge(False, text).redirect]
    wrongly = [text for text in COMMERCIAL if judge(False, text).redirect]
    assert (missed, wrongly) == ([], [])


# --- triage: the classifier's decision, with its confidence


def test_triage_redirects_the_kind_support_with_full_confidence():
    verdict = triage(True, "Quisiera una demostración del módulo de Remuneraciones.")
    assert (verdict.reason, verdict.decision, verdict.confidence) == (RedirectReason.SUPPORT_KIND, Decision.SUPPORT, 1)


def test_triage_keeps_a_commercial_request_with_the_classifiers_confidence():
    text = "Queremos cotizar el módulo de Inventario para dos bodegas en Temuco."
    verdict = triage(False, text)
    assert (verdict.redirect, verdict.decision, verdict.matched) == (False, Decision.COMMERCIAL, None)
    assert verdict.confidence == pytest.approx(classify(text).confidence)


def test_triage_redirects_a_fault_with_the_classifiers_confidence():
    text = "Desde ayer el libro de compras muestra facturas duplicadas y el IVA no cuadra."
    verdict = triage(False, text)
    assert (verdict.reason, verdict.decision) == (RedirectReason.FAULT_DESCRIBED, Decision.SUPPORT)
    assert verdict.confidence == pytest.approx(classify(text).confidence)
    assert verdict.confidence >= support_model().threshold


def test_triage_quotes_a_fault_phrase_as_the_customer_wrote_it():
    assert triage(False, "Buenas tardes. NO PUEDO INGRESAR al sistema, ¿qué pasó?").matched == "NO PUEDO INGRESAR"


def test_without_a_fault_phrase_triage_quotes_the_most_support_like_part_of_the_text():
    text = "Hola, buenas tardes. El SII rechazó la factura 1234 con el código LBR-2, no sé cómo corregirla."
    assert triage(False, text).matched == "El SII rechazó la factura 1234 con el código LBR-2"


def test_a_long_quote_is_cut_at_a_word_and_fits_the_stored_column():
    text = (
        "Les escribo porque desde que actualizaron el sistema la semana pasada el informe de antigüedad de saldos"
        " de clientes muestra como vencidas unas facturas que fueron pagadas en octubre por transferencia"
    )
    matched = triage(False, text).matched
    assert matched is not None
    assert matched.endswith("…")
    assert len(matched) <= QUOTE_CHARACTERS
    assert text.startswith(matched.removesuffix("…"))


@pytest.mark.parametrize("text", [example.text for example in load(REPORTED)])
def test_the_support_requests_reported_in_issue_19_are_redirected(text):
    verdict = triage(False, text)
    assert verdict.reason is RedirectReason.FAULT_DESCRIBED
    assert verdict.matched
    assert verdict.matched.removesuffix("…") in " ".join(text.split())
