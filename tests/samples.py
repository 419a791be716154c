"""Vivid sample messages."""

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from tienda.contracts.envelope import Envelope, new_envelope
from tienda.contracts.messages.activation import ActivationRequested, CartLine
from tienda.contracts.messages.payment import PaymentReceived
from tienda.contracts.types import PaymentMode, Person
from tienda.messaging.codec import encode

CAMILA = Person(user_id="u-camila", name="Camila Rojas", email="camila.rojas@ferreteria-rojas.cl")


def account() -> str:
    return f"acc-{uuid.uuid4().hex[:10]}"


def activation_requested(
    account_id: str, *lines: tuple[str, int], mode: PaymentMode = PaymentMode.AT_RENEWAL, request_id: str | None = None
) -> Envelope[ActivationRequested]:
    payload = ActivationRequested(
        request_id=request_id or f"req-{uuid.uuid4().hex[:8]}",
        requested_by=CAMILA,
        payment_mode=mode,
        lines=[CartLine(sku=sku, quantity=quantity) for sku, quantity in lines or (("USR-EXTRA", 2),)],
    )
    return new_envelope(payload, account_id=account_id, producer="erp-web")


def payment_received(account_id: str, reference: str, amount_clp: int, payment_id: str | None = None) -> Envelope[Any]:
    payload = PaymentReceived(
        payment_id=payment_id or f"pay-{uuid.uuid4().hex[:8]}",
        reference=reference,
        amount_clp=amount_clp,
        method="webpay",
        paid_by="Camila Rojas",
        paid_at=datetime.now(UTC),
    )
    return new_envelope(payload, account_id=account_id, producer="payment-gateway")


def as_dict(envelope: Envelope[Any]) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(encode(envelope))
    return document
