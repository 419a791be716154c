"""Every message type Tienda knows, by the name carried in the envelope's ``type``."""

from tienda.contracts.envelope import EventPayload
from tienda.contracts.messages.activation import (
    ActivationCompleted,
    ActivationRejected,
    ActivationRequested,
    ChargeScheduled,
)
from tienda.contracts.messages.payment import PaymentReceived

MESSAGE_TYPES: dict[str, type[EventPayload]] = {
    cls.message_type: cls
    for cls in (
        ActivationRequested,
        ActivationCompleted,
        ActivationRejected,
        ChargeScheduled,
        PaymentReceived,
    )
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
