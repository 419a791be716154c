"""The advisor's messages: commercial requests, their lifecycle, follow-ups."""

from tienda.contracts.envelope import EventPayload

MESSAGES: tuple[type[EventPayload], ...] = ()
