"""Support requests are redirected by their kind or by text plainly describing a fault;
commercial requests that mention errors in a commercial sense stay with the executive."""

import pytest

from tests.advisor.support_examples import COMMERCIAL, SUPPORT
from tienda.advisor.domain.triage import RedirectReason, customer_message, judge, normalize


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
