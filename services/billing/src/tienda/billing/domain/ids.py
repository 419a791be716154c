"""Document ids: derived from what they belong to, so that doing the same thing twice names the same document."""

import hashlib
from datetime import date


def order_id(activation_id: str) -> str:
    """The online order of an activation, e.g. ORD-2B0C4A7E9C1F."""
    return "ORD-" + activation_id.replace("-", "")[:12].upper()


def order_invoice_id(order: str) -> str:
    """The invoice issued when an order is paid, e.g. INV-ORD-2B0C4A7E9C1F."""
    return f"INV-{order}"


def renewal_invoice_id(account_id: str, period_start: date) -> str:
    """The renewal invoice of an account and period, e.g. INV-20270228-3FA9C2D41B07."""
    digest = hashlib.sha256(account_id.encode()).hexdigest()[:12].upper()
    return f"INV-{period_start:%Y%m%d}-{digest}"


def payment_request_id(invoice_id: str, attempt: int) -> str:
    return f"{invoice_id}-A{attempt}"
