"""How a payment settles what a document owes: full, partial, or over (a credit for later)."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tienda.billing.domain.documents import DocumentStatus
from tienda.contracts.pricing.money import CLP


@dataclass(frozen=True)
class Settlement:
    applied: CLP
    """The part of the payment that pays the document."""
    credit: CLP
    """The part over what was due: a credit applied to the account's next invoice."""
    balance_due: CLP
    """What the document still owes after the payment."""


def settle(due: CLP, amount: CLP) -> Settlement:
    """``amount`` paid against ``due``: never more applied than due, the rest is credit."""
    if amount <= 0:
        raise ValueError(f"a payment must be positive, got {amount} CLP")
    if due < 0:
        raise ValueError(f"what is due cannot be negative, got {due} CLP")
    applied = min(due, amount)
    return Settlement(applied=applied, credit=amount - applied, balance_due=due - applied)


@dataclass(frozen=True)
class Balance:
    """What a document with known amounts owes once its payments and credit are counted."""

    total: CLP
    credit_applied: CLP
    paid: CLP

    @property
    def due(self) -> CLP:
        return self.total - self.credit_applied - self.paid

    @property
    def status(self) -> DocumentStatus:
        if self.due <= 0:
            return DocumentStatus.PAID
        if self.paid or self.credit_applied:
            return DocumentStatus.PARTIALLY_PAID
        return DocumentStatus.PENDING


@dataclass(frozen=True)
class Issue:
    """A document whose amounts just became known, with what was paid before and the account's credit."""

    balance: Balance
    over_payment: CLP
    """Paid before the amounts were known, beyond the total: becomes account credit."""
    credit_left: CLP
    """The account's credit after this document used what it could."""


def issue(total: CLP, paid_before: CLP, account_credit: CLP, use_credit: bool = True) -> Issue:
    """Apply earlier payments first, then the account's credit, to a document of ``total`` pesos."""
    paid = min(paid_before, total)
    over = paid_before - paid
    usable = min(account_credit, total - paid) if use_credit else 0
    return Issue(Balance(total, usable, paid), over_payment=over, credit_left=account_credit - usable + over)


def owed(status: DocumentStatus, balance: Balance | None) -> CLP:
    """What one order or invoice still owes: nothing while it is held (its amounts are not known
    yet), once it is paid, or once it was carried into a renewal invoice (which owes it instead)."""
    if balance is None or not status.unpaid:
        return 0
    return max(balance.due, 0)


def balance_due(documents: Iterable[tuple[DocumentStatus, Balance | None]]) -> CLP:
    """What an account owes: the sum of what each of its orders and invoices still owes."""
    return sum(owed(status, balance) for status, balance in documents)


def settle_in_turn(total: CLP, amounts: Sequence[CLP]) -> list[Settlement]:
    """Payments made before a document's amounts were known, settled against its ``total`` in the
    order they came: the same as if each had arrived after the amounts were known."""
    settled, due = [], total
    for amount in amounts:
        settlement = settle(due, amount)
        settled.append(settlement)
        due = settlement.balance_due
    return settled
