"""Card numbers (PANs): Tienda never accepts, stores or writes one.

A card number is 13 to 19 digits, optionally grouped by spaces or dashes, that pass the
Luhn check. Billing's requests refuse messages carrying one; the messaging core masks
them before a dead letter reaches Kafka.
"""

import re
from collections.abc import Iterator, Mapping
from typing import Any

_DIGIT_GROUPS = re.compile(r"\d+(?:[ -]\d+)*")
_SEPARATOR = re.compile(r"[ -]")
PAN_MIN_DIGITS, PAN_MAX_DIGITS = 13, 19


def luhn_valid(digits: str) -> bool:
    """Whether a string of digits passes the Luhn (mod 10) check of card numbers."""
    total = 0
    for position, character in enumerate(reversed(digits)):
        value = int(character)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _text_of(value: Any) -> Iterator[str]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield str(key)
            yield from _text_of(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _text_of(item)
    elif value is not None:
        yield str(value)


def _card_number_in(text: str) -> bool:
    for match in _DIGIT_GROUPS.finditer(text):
        groups = _SEPARATOR.split(match.group())
        for first in range(len(groups)):
            digits = ""
            for group in groups[first:]:
                digits += group
                if len(digits) > PAN_MAX_DIGITS:
                    break
                if len(digits) >= PAN_MIN_DIGITS and luhn_valid(digits):
                    return True
    return False


def contains_card_number(value: Any) -> bool:
    """Whether a card number (PAN) appears anywhere in ``value``: any string, number, list or
    mapping (keys included), as 13 to 19 digits, optionally grouped by spaces or dashes,
    that pass the Luhn check."""
    return any(_card_number_in(text) for text in _text_of(value))
