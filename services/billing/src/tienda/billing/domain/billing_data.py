"""Mis datos de pago: what is printed on the account's invoices, checked before it is accepted.

Every field is required. The RUT is written as 7 or 8 digits (thousands dots optional),
an optional dash and the check digit (0-9 or K, either case); its check digit must be
right. It is stored in the canonical form ``12345678-5`` and shown as ``12.345.678-5``.
The billing e-mail gets a syntax check only (one @, a dotted domain, no spaces): whether
the mailbox exists is not checked here.
"""

import re
from dataclasses import dataclass, fields, replace

from stdnum.cl import rut as stdnum_rut
from stdnum.exceptions import InvalidChecksum, ValidationError

_RUT_SHAPE = re.compile(r"[0-9]{1,2}(?:\.?[0-9]{3}){2}-?[0-9kK]")
_RUT_EXAMPLE = "12.345.678-5"


@dataclass(frozen=True)
class BillingData:
    legal_name: str
    rut: str
    business_activity: str
    address: str
    comuna: str
    city: str
    billing_email: str


@dataclass(frozen=True)
class Problem:
    """What is wrong with one field, and what to do about it."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


_WHAT_TO_ENTER = {
    "legal_name": "enter the legal name (razón social) as registered with the SII",
    "rut": f"enter the company's RUT, e.g. {_RUT_EXAMPLE}",
    "business_activity": "enter the business activity (giro) as registered with the SII",
    "address": "enter the street address for the invoices",
    "comuna": "enter the comuna of the address",
    "city": "enter the city of the address",
    "billing_email": "enter the e-mail address that receives the invoices",
}


def validate(data: BillingData) -> list[Problem]:
    """Every problem of ``data``, in field order; an empty list means it can be accepted."""
    problems = [Problem(name, f"is blank: {_WHAT_TO_ENTER[name]}") for name in _blank_fields(data)]
    if data.rut.strip():
        problems += _problems(rut_problem(data.rut), "rut")
    if data.billing_email.strip():
        problems += _problems(email_problem(data.billing_email), "billing_email")
    return sorted(problems, key=lambda problem: _FIELD_ORDER[problem.field])


def normalise_rut(rut: str) -> str:
    """The RUT in its stored form, ``12345678-5``; ValueError saying what is wrong if invalid."""
    problem = rut_problem(rut)
    if problem is not None:
        raise ValueError(problem)
    number = stdnum_rut.compact(rut)
    return f"{number[:-1]}-{number[-1]}"


def display_rut(rut: str) -> str:
    """A valid RUT as printed on invoices, ``12.345.678-5``."""
    return stdnum_rut.format(normalise_rut(rut))


def normalise(data: BillingData) -> BillingData:
    """``data`` as stored: fields stripped, the RUT canonical; ValueError if it has problems."""
    problems = validate(data)
    if problems:
        raise ValueError("; ".join(str(problem) for problem in problems))
    stripped = replace(data, **{field.name: getattr(data, field.name).strip() for field in fields(data)})
    return replace(stripped, rut=normalise_rut(data.rut))


def rut_problem(rut: str) -> str | None:
    """Why ``rut`` is not a valid RUT, or None if it is."""
    text = rut.strip()
    malformed = f"{text} is not a RUT: write 7 or 8 digits, a dash and the check digit (0-9 or K), e.g. {_RUT_EXAMPLE}"
    if not _RUT_SHAPE.fullmatch(text):
        return malformed
    try:
        stdnum_rut.validate(text)
    except InvalidChecksum:
        number = stdnum_rut.compact(text)
        expected = stdnum_rut.calc_check_digit(number[:-1])
        return f"{stdnum_rut.format(number)} has a wrong check digit (expected {expected})"
    except ValidationError:
        return malformed
    return None


def email_problem(email: str) -> str | None:
    """Why ``email`` is not a plausible e-mail address, or None if it is."""
    text = email.strip()
    local, at, domain = text.partition("@")
    labels = domain.split(".")
    plausible = bool(
        at == "@"
        and local
        and "@" not in domain
        and not any(character.isspace() for character in text)
        and len(labels) >= 2
        and all(labels)
    )
    if plausible:
        return None
    return f"{text} is not an e-mail address: write it as name@company.cl"


_FIELD_ORDER = {field.name: position for position, field in enumerate(fields(BillingData))}


def _blank_fields(data: BillingData) -> list[str]:
    return [field.name for field in fields(data) if not getattr(data, field.name).strip()]


def _problems(message: str | None, field: str) -> list[Problem]:
    return [] if message is None else [Problem(field, message)]
