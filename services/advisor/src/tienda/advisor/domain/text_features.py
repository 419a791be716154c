"""The features the support classifier reads from a request's text.

The text is folded first: lower case, accents and ñ folded to their base letter
("Contraseña" and "contrasena" alike), every run of digits replaced by one ``0`` (an
invoice number or an amount says nothing about the kind of request, "error 502" and
"error 500" alike), and everything that is not a letter or a digit read as a space.

From the folded words come three families of features, each prefixed by its family:

* ``w:`` each word ("w:rechazo");
* ``b:`` each pair of neighbouring words ("b:no puedo"), which keeps negations and short
  phrases ("no funciona", "usuario bloqueado", "quiero cotizar");
* ``c:`` the 3 to 5 letter pieces of each word with a space on both sides
  ("c: rech", "c:hazo "), which read typos, plurals and conjugations of a word the same
  ("rechazó", "rechazada", "rechasaron").

The trainer (``python -m tienda.devkit.triage_model``) and the classifier both call
``features``, so the model always sees text cut the same way.
"""

import re
import unicodedata
from itertools import pairwise

_DIACRITICS = re.compile("[\u0300-\u036f]+")  # the combining marks NFKD splits accents and tildes into
_DIGITS = re.compile(r"\d+")
_NOT_WORD = re.compile(r"[^a-z0-9]+")
CHARACTER_PIECES = (3, 4, 5)


def fold(text: str) -> str:
    """Lower case, without accents, digits as ``0``, words separated by single spaces."""
    plain = _DIACRITICS.sub("", unicodedata.normalize("NFKD", text.lower()))
    return " ".join(_NOT_WORD.sub(" ", _DIGITS.sub("0", plain)).split())


def features(text: str) -> list[str]:
    """Every feature of ``text``, repeated as often as it occurs."""
    words = fold(text).split()
    found = [f"b:{first} {second}" for first, second in pairwise(words)]
    for word in words:
        found += word_features(word)
    return found


def word_features(word: str) -> list[str]:
    """The features of one folded word on its own: the word and its letter pieces."""
    padded = f" {word} "
    pieces = [padded[start : start + size] for size in CHARACTER_PIECES for start in range(len(padded) - size + 1)]
    return [f"w:{word}", *(f"c:{piece}" for piece in pieces)]
