"""Bytes on the wire to a typed envelope and back, with errors that name the field."""

import json
from typing import Any

from pydantic import ValidationError

from tienda.contracts.envelope import AnyEnvelope, Envelope, EnvelopeHeader, RawEnvelope
from tienda.contracts.registry import UnknownMessageType, payload_class
from tienda.contracts.topics import TOPICS
from tienda.messaging.errors import PoisonMessage


def encode(envelope: Envelope[Any]) -> bytes:
    """The JSON bytes of a message.

    An ``Envelope[Any]`` (what ``new_envelope`` builds) serializes its payload as the payload's own
    class, so every field is written without ``serialize_as_any``, which costs twice as much (no
    field of a wire model holds a subclass of its declared type; ``tests/contracts`` checks)."""
    return envelope.model_dump_json().encode()


def decode(value: bytes | None, key: bytes | None = None) -> Envelope[Any]:
    """A typed envelope, or PoisonMessage saying exactly what is wrong."""
    return typed(decode_header(value, key))


def decode_header(value: bytes | None, key: bytes | None = None, topic: str | None = None) -> RawEnvelope:
    """The envelope with its payload not yet validated: enough to route (or ignore) the message.

    Raises PoisonMessage for what no consumer could read: not JSON, a bad envelope, an
    unknown type, a schema version newer than this service's, a key that is not the account,
    a type the registry does not carry on ``topic`` (its consumers may not be the ones who need it)."""
    raw = _raw_envelope(_json_object(value))
    _check_topic(topic, raw.type)
    payload_type = _payload_type(raw)
    if raw.schema_version > payload_type.schema_version:
        raise PoisonMessage(
            f"{raw.type} schema version {raw.schema_version} is newer than this service "
            f"reads ({payload_type.schema_version}); deploy a newer version and replay"
        )
    _check_key(key, raw.account_id)
    return raw


def typed(raw: RawEnvelope) -> Envelope[Any]:
    """The envelope with its payload validated as its type says, or PoisonMessage naming the field."""
    try:
        payload = _payload_type(raw).model_validate(raw.payload)
    except ValidationError as error:
        raise PoisonMessage(f"{raw.type} rejected: {describe(error, 'payload.')}") from None
    header = {name: getattr(raw, name) for name in EnvelopeHeader.model_fields}
    return AnyEnvelope.model_construct(**header, payload=payload)  # the header was validated by decode_header


def _payload_type(raw: RawEnvelope) -> Any:
    try:
        return payload_class(raw.type)
    except UnknownMessageType as error:
        raise PoisonMessage(str(error)) from None


def _json_object(value: bytes | None) -> dict[str, Any]:
    if not value:
        raise PoisonMessage("empty message: expected a JSON envelope")
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError as error:
        raise PoisonMessage(f"message is not UTF-8 text (byte {error.start}): expected JSON") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise PoisonMessage(f"invalid JSON at line {error.lineno} column {error.colno}: {error.msg}") from None
    if not isinstance(document, dict):
        raise PoisonMessage(f"expected a JSON object envelope, got {type(document).__name__}")
    return document


def _raw_envelope(document: dict[str, Any]) -> RawEnvelope:
    try:
        return RawEnvelope.model_validate(document)
    except ValidationError as error:
        raise PoisonMessage(f"envelope rejected: {describe(error)}") from None


_CARRIED = {topic.name: topic.messages for topic in TOPICS}


def _check_topic(topic: str | None, message_type: str) -> None:
    carried = _CARRIED.get(topic or "")
    if carried is None or message_type in carried:
        return  # a topic the registry does not know (tests, tools) carries anything
    right = [name for name, messages in _CARRIED.items() if message_type in messages]
    where = f"publish it on {' or '.join(right)}" if right else "no topic carries it"
    raise PoisonMessage(f"{message_type} does not belong on {topic}, which carries {', '.join(carried)}: {where}")


def _check_key(key: bytes | None, account_id: str) -> None:
    if key is not None and key.decode("utf-8", "replace") != account_id:
        raise PoisonMessage(
            f"Kafka key {key.decode('utf-8', 'replace')!r} differs from account_id {account_id!r}: "
            "publish with the account id as key"
        )


def describe(error: ValidationError, prefix: str = "") -> str:
    """Every problem of a validation error as `field: what is wrong`, joined by '; '."""
    problems = []
    for item in error.errors(include_url=False):
        field = prefix + ".".join(str(part) for part in item["loc"])
        problems.append(f"{field.rstrip('.') or 'message'}: {_sentence_case(item['msg'])}")
    return "; ".join(problems)


def _sentence_case(message: str) -> str:
    """Pydantic's message with its first letter lowered, the rest verbatim (patterns, values)."""
    return message[:1].lower() + message[1:]
