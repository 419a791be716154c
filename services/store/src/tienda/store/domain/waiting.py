"""Requests that reach the store before their account's plan wait for it.

A cart (ActivationRequested) or a reduction (ReductionRequested) travels on
``tienda.activations.requested``, the plan on ``tienda.accounts.plans``. Kafka orders each
topic per account, not the two against each other: a customer who contracts a plan and buys
add-ons within the same second may have the cart reach the store first. So a request of an
account the store has no plan for is not refused: it **waits for the plan**.

- It is kept in the store's database, in the transaction that records its event id in the
  inbox: a crash or restart neither loses it nor handles it twice.
- The same event id waits once (the inbox); the same request id with a new event id waits once
  (what already waits is not added again), as the same request id activates once.
- When the account's first PlanContracted arrives, every request that waited for it is handled
  in that PlanContracted's transaction, in the order the requests arrived, exactly as if they had
  arrived after the plan: the same rules, the same effective date (``activation.effective_moment``),
  the same catalog prices.
- A request still waiting ``wait`` after it arrived (``TIENDA_STORE_UNKNOWN_ACCOUNT_WAIT_SECONDS``,
  24 h) is refused with ``unknown_account`` by the store's scheduler, at its first round after
  the wait: the customer is told an account is unknown only after the wait, never before.
- While it waits, the plan view (GET /accounts/{id}/plan) lists it under ``waiting_for_plan``.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from tienda.store.domain.plan import Account


class RequestKind(StrEnum):
    CART = "cart"
    REDUCTION = "reduction"


@dataclass(frozen=True)
class WaitingRequest:
    """A request kept until its account's plan arrives, as it was received."""

    position: int
    """Arrival order: requests of one account are handled in this order."""
    account_id: str
    kind: RequestKind
    request_id: str
    message: bytes
    """The envelope as it was received (event id, correlation, occurred-at and payload)."""
    waiting_since: datetime

    def refused_after(self, wait: timedelta) -> datetime:
        return self.waiting_since + wait


def waits_for_plan(account: Account | None) -> bool:
    """A request waits while the store has no plan for its account."""
    return account is None


def waited_too_long(request: WaitingRequest, now: datetime, wait: timedelta) -> bool:
    return now >= request.refused_after(wait)


def in_arrival_order(requests: list[WaitingRequest]) -> list[WaitingRequest]:
    return sorted(requests, key=lambda request: request.position)
