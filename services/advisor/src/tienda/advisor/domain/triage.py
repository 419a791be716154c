"""Is it a commercial request, or a support request to redirect to the support chat?

"Asesor Comercial" is not a support channel. ``triage`` redirects a request when:

1. the customer chose the kind ``support`` (confidence 1: the customer said so); or
2. the support classifier (``support_model``), trained on the labelled corpus in
   ``services/advisor/corpus/``, reads its text as support: something to fix (an error,
   access, an SII rejection, wrong figures, a how-to question on the system in use, lost
   data, slowness, a failing integration, something bought that does not work), not
   something to buy (a quote, a demo, training, a module, a plan change, a renewal,
   consultancy, more users, DTE, workers or legal entities, or a capability asked about
   before buying). Its confidence is the model's probability of the decision.

No rule on the words overrides the classifier: on the corpus' dev split the old phrase
lists (``fault_phrases``) and a rule on the word "soporte" each sent a commercial request
to support and found no support request the classifier missed (the old lists alone find
17 % of them). The threshold sits where the dev split's commercial requests all stay
with the executive: when in doubt a request stays commercial, because the executive reads
it and can still send the customer to support, while a wrong redirection turns away a
customer who wants to buy. A request with both a fault and a commercial ask is labelled
support in the corpus (the fault needs support first); the message asks the customer to
send the commercial part again.

The words quoted back to the customer come from the text's first 1,000 characters: its
first fault phrase of ``fault_phrases``, as written, else its part of four words or more
(between punctuation) that the classifier reads as most support-like.

The service layer calls ``triage``; its decision and confidence are kept with the request and
sent with CommercialRequestAssigned / CommercialRequestRedirected for operators. The executive
may correct it (``RedirectReason.EXECUTIVE_CORRECTION``; ``domain/corrections.py``). ``judge``
is the previous rule (the kind, else a fault phrase), kept for comparison in the tests.
"""

import re
from dataclasses import dataclass
from enum import StrEnum

from tienda.advisor.domain.fault_phrases import first_fault, normalize
from tienda.advisor.domain.support_model import Decision, classify, support_model

__all__ = [
    "SUPPORT_CHAT",
    "Decision",
    "RedirectReason",
    "Verdict",
    "corrected_to_support",
    "customer_message",
    "judge",
    "normalize",
    "triage",
]


class RedirectReason(StrEnum):
    SUPPORT_KIND = "support_kind"
    FAULT_DESCRIBED = "fault_described"
    EXECUTIVE_CORRECTION = "executive_correction"  # the executive read it and said it is support


@dataclass(frozen=True)
class Verdict:
    """The judgement on one request: ``reason`` is None for a commercial request.

    ``confidence`` is how sure the decision is, 0 to 1: 1 when the customer chose the kind
    support, the classifier's probability of its decision otherwise; None from ``judge``,
    which has no measure of it.
    """

    reason: RedirectReason | None = None
    matched: str | None = None
    confidence: float | None = None

    @property
    def redirect(self) -> bool:
        return self.reason is not None

    @property
    def decision(self) -> Decision:
        return Decision.SUPPORT if self.redirect else Decision.COMMERCIAL


QUOTE_CHARACTERS = 120
QUOTE_WORDS = 4  # a part of fewer words ("¿qué pasa?") says too little to be quoted
QUOTE_SEARCHED = 1000  # the quote is taken from the text's first 1,000 characters
_CLAUSE = re.compile(r"[^.,;:!?¿¡\n]+")


def triage(kind_is_support: bool, text: str) -> Verdict:
    """Commercial, or redirected to the support chat; with the decision's confidence and the words quoted."""
    if kind_is_support:
        return Verdict(RedirectReason.SUPPORT_KIND, confidence=1.0)
    classification = classify(text)
    if classification.decision is Decision.COMMERCIAL:
        return Verdict(confidence=classification.confidence)
    return Verdict(RedirectReason.FAULT_DESCRIBED, quote(text), classification.confidence)


def quote(text: str) -> str:
    """The words of ``text`` to quote back: its first fault phrase, else its most support-like part."""
    searched = text[:QUOTE_SEARCHED]
    phrase = first_fault(searched)
    if phrase:
        return phrase
    clauses = [" ".join(part.split()) for part in _CLAUSE.findall(searched)]
    clauses = [clause for clause in clauses if len(clause.split()) >= QUOTE_WORDS] or [" ".join(searched.split())]
    strongest = max(clauses, key=support_model().support_probability)
    if len(strongest) <= QUOTE_CHARACTERS:
        return strongest
    return strongest[: strongest.rfind(" ", 0, QUOTE_CHARACTERS - 1)].rstrip() + "…"


def judge(kind_is_support: bool, text: str) -> Verdict:
    """The previous rule: redirected when the kind is support or the text has a fault phrase."""
    if kind_is_support:
        return Verdict(RedirectReason.SUPPORT_KIND)
    phrase = first_fault(text)
    return Verdict(RedirectReason.FAULT_DESCRIBED, phrase) if phrase else Verdict()


SUPPORT_CHAT = "support_chat"


def corrected_to_support(text: str) -> Verdict:
    """The executive's correction as a verdict: support, quoting the text's most support-like words."""
    return Verdict(RedirectReason.EXECUTIVE_CORRECTION, quote(text))


def customer_message(verdict: Verdict, request_id: str) -> str:
    """What the ERP shows the customer whose request was redirected, in Spanish (the same words
    whether the classifier or the executive decided)."""
    opening = (
        "Elegiste «Soporte»"
        if verdict.reason is RedirectReason.SUPPORT_KIND
        else f"Tu mensaje describe un problema técnico («{verdict.matched}»)"
    )
    return (
        f"{opening}. El Asesor Comercial atiende solicitudes comerciales y no es un canal de soporte: "
        "escríbenos en el Chat de Soporte dentro del sistema, donde el equipo de soporte te ayudará a resolverlo. "
        f"Tu mensaje quedó registrado con el número {request_id}. "
        "Si además tienes una solicitud comercial (nuevas funcionalidades, capacitación, productos o una "
        "demostración), envíala nuevamente por el Asesor Comercial."
    )
