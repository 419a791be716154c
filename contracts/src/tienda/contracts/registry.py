"""Every message type Tienda knows, by the name carried in the envelope's ``type``.

Each module of ``tienda.contracts.messages`` lists its payloads in ``MESSAGES``."""

from tienda.contracts.envelope import EventPayload
from tienda.contracts.messages import activation, advisor, billing, operations, payment, plans, store

MESSAGE_TYPES: dict[str, type[EventPayload]] = {
    cls.message_type: cls
    for module in (activation, plans, store, payment, billing, advisor, operations)
    for cls in module.MESSAGES
}


class UnknownMessageType(LookupError):
    """The envelope names a type that no contract defines."""


def payload_class(message_type: str) -> type[EventPayload]:
    """The payload model of a message type, or UnknownMessageType."""
    try:
        return MESSAGE_TYPES[message_type]
    except KeyError:
        known = ", ".join(sorted(MESSAGE_TYPES))
        raise UnknownMessageType(f"unknown message type {message_type!r}: Tienda knows {known}") from None
