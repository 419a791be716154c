"""The store's messages beyond activation: reductions and the plan view."""

from tienda.contracts.envelope import EventPayload

MESSAGES: tuple[type[EventPayload], ...] = ()
