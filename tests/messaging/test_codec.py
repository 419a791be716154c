"""What a producer reads when the codec refuses its message: the field and pydantic's words, verbatim."""

import json

import pytest

from tests.samples import activation_requested
from tienda.messaging.codec import decode
from tienda.messaging.errors import PoisonMessage


def _with_sku(sku: str) -> bytes:
    envelope = json.loads(activation_requested("acc-ferreteria-rojas").model_dump_json())
    envelope["payload"]["lines"][0]["sku"] = sku
    return json.dumps(envelope).encode()


def test_a_refused_sku_shows_the_pattern_as_the_contract_writes_it():
    with pytest.raises(PoisonMessage) as refused:
        decode(_with_sku("usr-extra"))

    reason = str(refused.value)
    assert "payload.lines.0.sku: string should match pattern '^[A-Z0-9][A-Z0-9_-]{1,39}$'" in reason


def test_a_refused_value_keeps_its_words_and_starts_lower_case():
    envelope = json.loads(activation_requested("acc-ferreteria-rojas").model_dump_json())
    envelope["payload"]["lines"][0]["quantity"] = 0

    with pytest.raises(PoisonMessage) as refused:
        decode(json.dumps(envelope).encode())

    assert "payload.lines.0.quantity: input should be greater than or equal to 1" in str(refused.value)
