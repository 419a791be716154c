"""Vivid advisor messages: requests from Chilean customers, executives, store and billing events."""

import uuid
from datetime import UTC, date, datetime
from typing import Any

from tienda.advisor.config import AdvisorSettings, RosterEntry
from tienda.contracts.envelope import Envelope, new_envelope
from tienda.contracts.messages.activation import (
    ActivationCompleted,
    ActivationRejected,
    ChargeScheduled,
    Entitlement,
    PricedLine,
    RejectedLine,
)
from tienda.contracts.messages.advisor import (
    CommercialRequestSubmitted,
    CommercialRequestUpdated,
    ContactChannel,
    Executive,
    ExecutiveAssigned,
    PreferredContact,
    RequestKind,
    RequestStatus,
    TriageCorrection,
)
from tienda.contracts.messages.billing import AutopayFailed
from tienda.contracts.types import PaymentMode, Person

CAMILA = Person(user_id="u-camila", name="Camila Rojas", email="camila.rojas@ferreteria-rojas.cl")
ROSTER = [
    RosterEntry(id="ej-paula", name="Paula Fuentes", email="paula.fuentes@tienda.cl"),
    RosterEntry(id="ej-matias", name="Matías Soto", email="matias.soto@tienda.cl"),
    RosterEntry(id="ej-valentina", name="Valentina Muñoz", email="valentina.munoz@tienda.cl"),
]
IGNACIO = Executive(executive_id="ej-ignacio", name="Ignacio Pérez", email="ignacio.perez@tienda.cl")

# Monday 16 March 2026, 10:00 in Santiago (UTC-3).
MONDAY_MORNING = datetime(2026, 3, 16, 13, 0, tzinfo=UTC)


def settings(**changes: Any) -> AdvisorSettings:
    return AdvisorSettings(executives=ROSTER, **changes)


def at(envelope: Envelope[Any], moment: datetime) -> Envelope[Any]:
    return envelope.model_copy(update={"occurred_at": moment})


def request_submitted(
    account_id: str,
    text: str = "¿Nos pueden hacer una demostración del módulo de Inventario? Tenemos dos bodegas.",
    kind: RequestKind = RequestKind.DEMO,
    request_id: str | None = None,
    occurred_at: datetime = MONDAY_MORNING,
) -> Envelope[CommercialRequestSubmitted]:
    payload = CommercialRequestSubmitted(
        request_id=request_id or f"sol-{uuid.uuid4().hex[:8]}",
        requested_by=CAMILA,
        kind=kind,
        text=text,
        preferred_contact=PreferredContact(channel=ContactChannel.PHONE, value="+56 9 8765 4321", when="mañanas"),
    )
    return at(new_envelope(payload, account_id=account_id, producer="erp-web"), occurred_at)


def request_updated(
    account_id: str,
    request_id: str,
    status: RequestStatus,
    executive_id: str = "ej-paula",
    occurred_at=None,
    correction: TriageCorrection | None = None,
    note: str = "Llamé a Camila, agendamos demo.",
) -> Envelope[CommercialRequestUpdated]:
    payload = CommercialRequestUpdated(
        request_id=request_id, status=status, executive_id=executive_id, note=note, correction=correction
    )
    envelope = new_envelope(payload, account_id=account_id, producer="executive-tools")
    return at(envelope, occurred_at) if occurred_at else envelope


def sent_to_support(account_id: str, request_id: str, occurred_at=None, executive_id: str = "ej-paula"):
    """The executive corrects the triage: it is support (status closed for readers that predate the field)."""
    note = "Es un problema de emisión, lo ve soporte."
    correction = TriageCorrection.REDIRECTED_TO_SUPPORT
    return request_updated(
        account_id, request_id, RequestStatus.CLOSED, executive_id, occurred_at, correction=correction, note=note
    )


def reclassified_commercial(account_id: str, request_id: str, occurred_at=None, executive_id: str = "ej-paula"):
    """The executive corrects the triage: it is commercial (status in_progress for readers that predate the field)."""
    note = "Quiere comprar el módulo, no es soporte."
    correction = TriageCorrection.RECLASSIFIED_COMMERCIAL
    return request_updated(
        account_id, request_id, RequestStatus.IN_PROGRESS, executive_id, occurred_at, correction=correction, note=note
    )


def executive_assigned(account_id: str, executive: Executive = IGNACIO) -> Envelope[ExecutiveAssigned]:
    return new_envelope(ExecutiveAssigned(executive=executive), account_id=account_id, producer="crm")


def autopay_failed(account_id: str, invoice_id: str = "F-2026-004512", amount_clp: int = 89_250) -> Envelope[Any]:
    payload = AutopayFailed(
        invoice_id=invoice_id,
        amount_clp=amount_clp,
        attempts=3,
        last_reason="tarjeta rechazada por el emisor",
        gave_up_at=datetime(2026, 3, 16, 12, 0, tzinfo=UTC),
    )
    return at(new_envelope(payload, account_id=account_id, producer="billing"), MONDAY_MORNING)


INVENTORY = PricedLine(sku="MOD-INV", description="Módulo Inventario", quantity=1, unit_price_uf="1.5000")
USERS = PricedLine(sku="USR-EXTRA", description="Usuario adicional", quantity=3, unit_price_uf="0.5000")
ACTIVATION_ID = "2b0c4a7e-9c1f-4f7e-8a57-3f1e2d9b6c10"


def activation_completed(account_id: str, *lines: PricedLine, activation_id: str = ACTIVATION_ID) -> Envelope[Any]:
    payload = ActivationCompleted(
        activation_id=activation_id,
        request_id="req-1",
        requested_by=CAMILA,
        payment_mode=PaymentMode.AT_RENEWAL,
        effective_date=date(2026, 3, 16),
        lines=list(lines or (USERS,)),
        entitlements=[Entitlement(resource="users", quantity=3)],
    )
    return at(new_envelope(payload, account_id=account_id, producer="store"), MONDAY_MORNING)


def activation_rejected(account_id: str, *codes: str, request_id: str = "req-2") -> Envelope[Any]:
    reasons = [
        RejectedLine(line=1, sku="USR-EXTRA", code=code, message=f"Usuario adicional: {code.replace('_', ' ')}.")
        for code in codes
    ]
    payload = ActivationRejected(request_id=request_id, requested_by=CAMILA, reasons=reasons)
    return at(new_envelope(payload, account_id=account_id, producer="store"), MONDAY_MORNING)


def charge_scheduled(account_id: str) -> Envelope[Any]:
    payload = ChargeScheduled(
        activation_id=ACTIVATION_ID,
        request_id="req-1",
        requested_by=CAMILA,
        payment_mode=PaymentMode.ONLINE,
        effective_date=date(2026, 3, 16),
        lines=[USERS],
    )
    return new_envelope(payload, account_id=account_id, producer="store")
