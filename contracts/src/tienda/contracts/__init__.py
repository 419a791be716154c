"""The published language of Tienda: what other systems read and write on Kafka.

Everything here is plain pydantic: no service, no SQLAlchemy, no FastStream.
"""

from tienda.contracts.envelope import Envelope, EventPayload, new_envelope
from tienda.contracts.registry import MESSAGE_TYPES, payload_class

__all__ = ["MESSAGE_TYPES", "Envelope", "EventPayload", "new_envelope", "payload_class"]
