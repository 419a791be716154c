"""Document ids: derived from what they belong to, so that doing the same thing twice names the same document.

Because they are derived, another system can know an id before billing created the document
(the ERP web knows the activation id of a cart, so the order's id): ``could_name_document``
says whether a reference may still become a document of an account. People type the references
of bank transfers: ``as_written`` reads ``" ord-2b0c4a7e9c1f"`` as the order ORD-2B0C4A7E9C1F.
"""

import hashlib
import re
from datetime import date

_ORDER = re.compile(r"ORD-[0-9A-F]{12}")
_ORDER_INVOICE = re.compile(r"INV-ORD-[0-9A-F]{12}")
_RENEWAL_INVOICE = re.compile(r"INV-(?P<day>[0-9]{8})-(?P<account>[0-9A-F]{12})")


def order_id(activation_id: str) -> str:
    """The online order of an activation, e.g. ORD-2B0C4A7E9C1F."""
    return "ORD-" + activation_id.replace("-", "")[:12].upper()


def order_invoice_id(order: str) -> str:
    """The invoice issued when an order is paid, e.g. INV-ORD-2B0C4A7E9C1F."""
    return f"INV-{order}"


def _account_digest(account_id: str) -> str:
    return hashlib.sha256(account_id.encode()).hexdigest()[:12].upper()


def renewal_invoice_id(account_id: str, period_start: date) -> str:
    """The renewal invoice of an account and period, e.g. INV-20270228-3FA9C2D41B07."""
    return f"INV-{period_start:%Y%m%d}-{_account_digest(account_id)}"


def payment_request_id(invoice_id: str, attempt: int) -> str:
    return f"{invoice_id}-A{attempt}"


def could_name_document(account_id: str, reference: str) -> bool:
    """Whether billing could one day create a document of ``account_id`` named ``reference``: an
    order or an order's invoice (any activation), or a renewal invoice of this account on a real date."""
    if _ORDER.fullmatch(reference) or _ORDER_INVOICE.fullmatch(reference):
        return True
    renewal = _RENEWAL_INVOICE.fullmatch(reference)
    if renewal is None or renewal["account"] != _account_digest(account_id):
        return False
    day = renewal["day"]
    try:
        date(int(day[:4]), int(day[4:6]), int(day[6:]))
    except ValueError:
        return False
    return True


def as_written(account_id: str, reference: str) -> str:
    """A payment's reference as billing writes its ids, when written so it names a document the
    account has or may have (spaces around it dropped, letters upper-cased: transfer references are
    typed by people); any other reference as received, for the operator who reconciles it."""
    written = reference.strip().upper()
    return written if could_name_document(account_id, written) else reference
