"""Mis datos de pago: required fields, a RUT with the right check digit, a plausible billing e-mail."""

from dataclasses import fields, replace

import pytest
from stdnum.cl import rut as stdnum_rut

from tienda.billing.domain.billing_data import (
    BillingData,
    Problem,
    display_rut,
    normalise,
    normalise_rut,
    validate,
)


def with_check_digit(body: int) -> str:
    return f"{body}-{stdnum_rut.calc_check_digit(str(body))}"


def first_rut_ending_in_k(start: int) -> str:
    return next(
        with_check_digit(body) for body in range(start, start + 100) if stdnum_rut.calc_check_digit(str(body)) == "K"
    )


RUT_WITH_K = first_rut_ending_in_k(76_100_000)


def ferreteria(**changes: str) -> BillingData:
    data = BillingData(
        legal_name="Ferretería Rojas SpA",
        rut="76.086.428-5",
        business_activity="Venta al por menor de artículos de ferretería",
        address="Av. Libertador Bernardo O'Higgins 1234, oficina 56",
        comuna="Santiago",
        city="Santiago",
        billing_email="facturas@ferreteria-rojas.cl",
    )
    return replace(data, **changes)


def messages(data: BillingData) -> list[str]:
    return [str(problem) for problem in validate(data)]


def test_complete_billing_data_with_a_valid_rut_has_no_problems():
    assert validate(ferreteria()) == []


@pytest.mark.parametrize(
    "rut",
    ["76.086.428-5", "12.531.909-2", "12.345.678-5", "5.126.663-3", with_check_digit(96_512_340), RUT_WITH_K],
)
def test_a_real_looking_rut_with_its_check_digit_is_accepted(rut):
    assert stdnum_rut.is_valid(rut)
    assert validate(ferreteria(rut=rut)) == []


def test_a_wrong_check_digit_says_which_one_is_expected():
    assert messages(ferreteria(rut="12.345.678-0")) == ["rut: 12.345.678-0 has a wrong check digit (expected 5)"]


def test_a_wrong_check_digit_is_shown_formatted_however_it_was_written():
    assert messages(ferreteria(rut="123456780")) == ["rut: 12.345.678-0 has a wrong check digit (expected 5)"]


@pytest.mark.parametrize(
    "rut",
    ["12.345.678", "76086A28-5", "1234-5", "123.456.789-0", "12-345-678-5", "RUT 12345678-5", "12.345.678-X", "abc"],
)
def test_a_malformed_rut_is_refused_with_the_expected_shape(rut):
    [problem] = validate(ferreteria(rut=rut))
    assert problem.field == "rut"
    assert problem.message == (
        f"{rut} is not a RUT: write 7 or 8 digits, a dash and the check digit (0-9 or K), e.g. 12.345.678-5"
    )


def test_a_lowercase_k_check_digit_is_accepted_and_stored_uppercase():
    body, check_digit = RUT_WITH_K.split("-")
    assert check_digit == "K"
    lowercase = stdnum_rut.format(body + "K").lower()
    assert validate(ferreteria(rut=lowercase)) == []
    assert normalise_rut(lowercase) == f"{body}-K"


@pytest.mark.parametrize("written", ["12.345.678-5", "12345678-5", "123456785", " 12.345.678-5 ", "12345.678-5"])
def test_a_rut_is_stored_without_dots_and_with_a_dash(written):
    assert normalise_rut(written) == "12345678-5"


def test_a_rut_of_seven_digits_is_stored_without_a_leading_zero():
    assert normalise_rut("5.126.663-3") == "5126663-3"
    assert display_rut("5126663-3") == "5.126.663-3"


def test_a_rut_is_shown_with_dots_and_a_dash():
    assert display_rut("123456785") == "12.345.678-5"


def test_an_invalid_rut_cannot_be_normalised():
    with pytest.raises(ValueError, match=r"12\.345\.678-0 has a wrong check digit \(expected 5\)"):
        normalise_rut("12.345.678-0")


@pytest.mark.parametrize("name", [field.name for field in fields(BillingData)])
def test_each_blank_field_is_named_with_what_to_enter(name):
    [problem] = validate(ferreteria(**{name: "   "}))
    assert problem.field == name
    assert problem.message.startswith("is blank: enter ")


def test_every_problem_is_reported_at_once_in_field_order():
    data = ferreteria(legal_name="", rut="12.345.678-0", city="", billing_email="facturas")
    assert [problem.field for problem in validate(data)] == ["legal_name", "rut", "city", "billing_email"]


def test_blank_billing_data_lists_every_field():
    blank = BillingData(*[""] * len(fields(BillingData)))
    assert [problem.field for problem in validate(blank)] == [field.name for field in fields(BillingData)]


@pytest.mark.parametrize("email", ["facturas@ferreteria-rojas.cl", "pagos.contabilidad+sii@empresa.com", "  a@b.co  "])
def test_a_plausible_billing_email_is_accepted(email):
    assert validate(ferreteria(billing_email=email)) == []


@pytest.mark.parametrize(
    "email",
    [
        "facturas",
        "facturas@empresa",
        "a@@empresa.cl",
        "a@b@empresa.cl",
        "a b@empresa.cl",
        "@empresa.cl",
        "a@empresa..cl",
        "a@.empresa.cl",
        "a@empresa.cl.",
    ],
)
def test_an_implausible_billing_email_says_how_to_write_it(email):
    assert validate(ferreteria(billing_email=email)) == [
        Problem("billing_email", f"{email} is not an e-mail address: write it as name@company.cl")
    ]


def test_accepted_billing_data_is_stored_stripped_with_the_canonical_rut():
    stored = normalise(ferreteria(legal_name="  Ferretería Rojas SpA ", rut="76.086.428-5", comuna=" Ñuñoa "))
    assert stored == ferreteria(rut="76086428-5", comuna="Ñuñoa")


def test_billing_data_with_problems_is_not_stored():
    with pytest.raises(ValueError, match=r"rut: 12\.345\.678-0 has a wrong check digit \(expected 5\)"):
        normalise(ferreteria(rut="12.345.678-0"))
