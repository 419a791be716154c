"""Published schemas only grow: a breaking change fails here before it ships."""

import copy

import pytest

from tienda.contracts.schemas import breaking_changes, current_schemas, published_schemas

PUBLISHED = published_schemas()


def test_every_message_type_has_a_published_schema():
    assert set(current_schemas()) == set(PUBLISHED)


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_the_code_does_not_break_a_published_schema(name):
    assert breaking_changes(PUBLISHED[name], current_schemas()[name]) == []


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_the_published_schema_is_the_one_the_code_writes(name):
    message = "run `uv run python -m tienda.contracts.schemas` and commit contracts/schemas/"
    assert current_schemas()[name] == PUBLISHED[name], message


def payment_schema():
    return copy.deepcopy(PUBLISHED["PaymentReceived.v1.json"])


def payload(schema):
    return schema["$defs"]["PaymentReceived"]


def test_a_removed_field_is_breaking():
    changed = payment_schema()
    del payload(changed)["properties"]["method"]
    assert breaking_changes(payment_schema(), changed) == ["payload.method: field removed or renamed"]


def test_a_renamed_field_is_breaking():
    changed = payment_schema()
    payload(changed)["properties"]["amount"] = payload(changed)["properties"].pop("amount_clp")
    assert "payload.amount_clp: field removed or renamed" in breaking_changes(payment_schema(), changed)


def test_a_changed_type_is_breaking():
    changed = payment_schema()
    payload(changed)["properties"]["amount_clp"]["type"] = "string"
    assert breaking_changes(payment_schema(), changed) == ["payload.amount_clp.: type changed from integer to string"]


def test_a_new_required_field_is_breaking():
    changed = payment_schema()
    payload(changed)["properties"]["installments"] = {"type": "integer"}
    payload(changed)["required"].append("installments")
    assert breaking_changes(payment_schema(), changed) == ["payload.installments: new required field"]


def test_a_new_optional_field_is_not_breaking():
    changed = payment_schema()
    payload(changed)["properties"]["installments"] = {"anyOf": [{"type": "integer"}, {"type": "null"}]}
    assert breaking_changes(payment_schema(), changed) == []


def test_a_new_enum_value_is_breaking_so_new_values_travel_in_a_new_optional_field():
    """A reader that validates the enum would refuse the new value: the advisor's triage corrections
    therefore travel in CommercialRequestUpdated's optional ``correction``, not as new statuses."""
    published = copy.deepcopy(PUBLISHED["CommercialRequestUpdated.v1.json"])
    grown = copy.deepcopy(published)
    grown["$defs"]["RequestStatus"]["enum"].append("redirected_to_support")
    assert breaking_changes(published, grown) == [
        "payload.status.: type changed from {'enum': ['closed', 'in_progress', 'resolved']} to "
        "{'enum': ['closed', 'in_progress', 'redirected_to_support', 'resolved']}"
    ]
    current = current_schemas()["CommercialRequestUpdated.v1.json"]
    assert "correction" not in current["$defs"]["CommercialRequestUpdated"]["required"]
