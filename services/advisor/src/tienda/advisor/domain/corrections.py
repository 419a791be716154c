"""The executives' corrections of the support triage, kept so the triage corpus can grow from real traffic.

A correction records the request's text, what the triage decided automatically and how sure it
was, the label the executive gave (support or commercial), who and when. Exported as lines of
the corpus (``services/advisor/corpus/``: ``text``, ``label``, ``topic``; no ``split``, so the
corpus' dealer gives each one), with the topic ``executive_correction`` until someone reviewing
them files each under a sub-category. A request corrected twice (or two requests of the same
text) count once, with the last label.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tienda.advisor.domain.support_model import Decision

CORPUS_TOPIC = "executive_correction"


@dataclass(frozen=True)
class Correction:
    account_id: str
    request_id: str
    text: str
    automatic_decision: Decision
    confidence: float | None
    label: Decision
    corrected_by: str
    corrected_at: datetime
    note: str | None = None


def corpus_lines(corrections: Iterable[Correction], details: bool = False) -> list[dict[str, Any]]:
    """One corpus line per text (a request's last correction; the corpus holds a text once), in the
    order of those corrections. With ``details``, each line also says where it came from (which the
    corpus' reader ignores)."""
    latest: dict[str, Correction] = {}
    for correction in sorted(corrections, key=lambda c: c.corrected_at):
        latest.pop(correction.text, None)
        latest[correction.text] = correction
    return [_line(correction, details) for correction in latest.values()]


def _line(correction: Correction, details: bool) -> dict[str, Any]:
    line: dict[str, Any] = {"text": correction.text, "label": correction.label.value, "topic": CORPUS_TOPIC}
    if details:
        line["correction"] = {
            "account_id": correction.account_id,
            "request_id": correction.request_id,
            "automatic_decision": correction.automatic_decision.value,
            "confidence": correction.confidence,
            "corrected_by": correction.corrected_by,
            "corrected_at": correction.corrected_at.isoformat(),
            "note": correction.note,
        }
    return line
