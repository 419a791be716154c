"""The shipped samples (examples/messages/<Type>.json): one per contract type, each valid,
and a wrong file refused with the field that is wrong."""

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tienda.contracts.cards import contains_card_number
from tienda.contracts.registry import MESSAGE_TYPES, payload_class
from tienda.ops.kafka_tools import SAMPLES_DIR, sample_envelope

ACCOUNT = "acc-ferreteria-rojas"
TYPES = sorted(MESSAGE_TYPES)
UF_AMOUNT = re.compile(r"^\d+\.\d{4}$")


def sample(message_type: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((SAMPLES_DIR / f"{message_type}.json").read_text(encoding="utf-8"))
    return document


def unknown_keys(written: Any, read: Any, where: str = "") -> list[str]:
    """Keys of the file the model does not know (the contracts ignore them silently: a typo would go unseen)."""
    if isinstance(written, dict) and isinstance(read, dict):
        problems = [f"{where}{key}" for key in written if key not in read]
        for key in written.keys() & read.keys():
            problems += unknown_keys(written[key], read[key], f"{where}{key}.")
        return problems
    if isinstance(written, list) and isinstance(read, list):
        return [
            problem
            for i, (a, b) in enumerate(zip(written, read, strict=False))
            for problem in unknown_keys(a, b, f"{where}{i}.")
        ]
    return []


def money_problems(value: Any, where: str = "") -> list[str]:
    """UF amounts as strings with 4 decimals, pesos as integers."""
    problems: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{where}{key}"
            if key.endswith("_uf") and key != "clp_per_uf" and not (isinstance(item, str) and UF_AMOUNT.match(item)):
                problems.append(f"{path}: {item!r} is not a UF amount with 4 decimals")
            if key.endswith("_clp") and item is not None and (isinstance(item, bool) or not isinstance(item, int)):
                problems.append(f"{path}: {item!r} is not whole pesos")
            problems += money_problems(item, f"{path}.")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            problems += money_problems(item, f"{where}{i}.")
    return problems


def test_every_message_type_has_a_sample_and_every_sample_a_type() -> None:
    files = {path.stem for path in SAMPLES_DIR.glob("*.json")}
    assert sorted(set(TYPES) - files) == []
    assert sorted(files - set(TYPES)) == []


@pytest.mark.parametrize("message_type", TYPES)
def test_the_sample_builds_a_valid_envelope(message_type: str) -> None:
    envelope = sample_envelope(message_type, ACCOUNT)

    assert envelope.type == message_type
    assert envelope.account_id == ACCOUNT
    assert envelope.producer == "tienda-ops"
    assert envelope.schema_version == payload_class(message_type).schema_version
    assert isinstance(envelope.payload, payload_class(message_type))
    assert envelope.correlation_id == envelope.event_id


@pytest.mark.parametrize("message_type", TYPES)
def test_the_sample_is_exact_money_and_no_card_number(message_type: str) -> None:
    document = sample(message_type)
    read = payload_class(message_type).model_validate(document).model_dump(mode="json")

    assert unknown_keys(document, read) == []
    assert money_problems(document) == []
    assert not contains_card_number(document)


def test_a_whole_envelope_in_a_file_is_accepted_with_its_payload(tmp_path: Path) -> None:
    file = tmp_path / "envelope.json"
    file.write_text(
        json.dumps({"type": "PaymentReceived", "account_id": "someone-else", "payload": sample("PaymentReceived")})
    )

    envelope = sample_envelope("PaymentReceived", ACCOUNT, file)

    assert envelope.account_id == ACCOUNT
    assert envelope.payload.model_dump(mode="json") == sample("PaymentReceived")


def test_a_wrong_file_is_refused_naming_the_field(tmp_path: Path) -> None:
    payload = sample("ActivationRequested")
    payload["payment_mode"] = "cuotas"
    del payload["requested_by"]["email"]
    file = tmp_path / "cart.json"
    file.write_text(json.dumps(payload))

    with pytest.raises(ValueError, match=r"payload\.payment_mode") as refused:
        sample_envelope("ActivationRequested", ACCOUNT, file)

    assert str(file) in str(refused.value)
    assert "payload.requested_by.email" in str(refused.value)


def test_a_wrong_line_is_refused_naming_its_position(tmp_path: Path) -> None:
    payload = sample("ActivationRequested")
    payload["lines"][1]["quantity"] = 0
    file = tmp_path / "cart.json"
    file.write_text(json.dumps(payload))

    with pytest.raises(ValueError, match=r"payload\.lines\.1\.quantity"):
        sample_envelope("ActivationRequested", ACCOUNT, file)


def test_a_card_number_in_a_file_is_refused_without_repeating_it(tmp_path: Path) -> None:
    payload = sample("CardSubscribed")
    payload["token_reference"] = "4111 1111 1111 1111"
    file = tmp_path / "card.json"
    file.write_text(json.dumps(payload))

    with pytest.raises(ValueError, match="card number") as refused:
        sample_envelope("CardSubscribed", ACCOUNT, file)

    assert "1111" not in str(refused.value)


def test_an_unknown_type_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(ValueError, match="NoSuchType") as refused:
        sample_envelope("NoSuchType", ACCOUNT)

    assert all(message_type in str(refused.value) for message_type in TYPES)


def test_a_type_without_a_sample_says_where_to_write_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tienda.ops.kafka_tools.SAMPLES_DIR", tmp_path)

    with pytest.raises(ValueError, match="no sample for PlanContracted") as refused:
        sample_envelope("PlanContracted", ACCOUNT)

    assert str(tmp_path / "PlanContracted.json") in str(refused.value)
