"""E-mail addresses are checked as pydantic's EmailStr checks them, remembered or not."""

import pytest
from pydantic import BaseModel, EmailStr, ValidationError

from tienda.contracts.types import Person


class _WithEmailStr(BaseModel):
    email: EmailStr


def _error_of(model: type[BaseModel], **fields: str) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as raised:
        model(**fields)
    return [(item["type"], item["msg"]) for item in raised.value.errors(include_url=False)]


@pytest.mark.parametrize("address", ["camila.rojas", "camila@ferreteria", "camila@@ferreteria.cl", ""])
def test_an_invalid_address_is_refused_as_emailstr_refuses_it_every_time(address):
    expected = _error_of(_WithEmailStr, email=address)
    for _ in range(2):  # the second time too: a refusal is never remembered
        assert _error_of(Person, user_id="u-1", name="Camila Rojas", email=address) == expected


def test_a_valid_address_is_normalized_as_emailstr_normalizes_it():
    address = "Camila.Rojas@Ferreteria-Rojas.CL"
    first = Person(user_id="u-1", name="Camila Rojas", email=address).email
    again = Person(user_id="u-1", name="Camila Rojas", email=address).email
    assert first == again == _WithEmailStr(email=address).email == "Camila.Rojas@ferreteria-rojas.cl"
