"""The envelope: ids, times in UTC, correlation across a flow."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, get_args

from pydantic import BaseModel

from tests.samples import account, activation_requested
from tienda.contracts.envelope import new_envelope
from tienda.contracts.registry import MESSAGE_TYPES
from tienda.contracts.topics import TOPICS, topic_for
from tienda.messaging.codec import decode, encode


def test_a_caused_message_keeps_the_correlation_and_names_its_cause():
    cause = activation_requested(account())
    effect = new_envelope(cause.payload, account_id=cause.account_id, producer="store", cause=cause)
    assert effect.correlation_id == cause.correlation_id
    assert effect.causation_id == cause.event_id
    assert effect.event_id != cause.event_id


def test_occurred_at_is_kept_in_utc():
    santiago = timezone(timedelta(hours=-3))
    envelope = new_envelope(
        activation_requested(account()).payload,
        account_id="acc-1",
        producer="erp-web",
        occurred_at=datetime(2026, 11, 25, 10, 30, tzinfo=santiago),
    )
    assert envelope.occurred_at == datetime(2026, 11, 25, 13, 30, tzinfo=UTC)


def test_a_message_survives_the_wire_unchanged():
    envelope = activation_requested(account(), ("DTE-100", 2), ("MOD-INV", 1))
    assert decode(encode(envelope), envelope.account_id.encode()).model_dump() == envelope.model_dump()


def test_every_topic_is_keyed_by_account_and_every_message_has_one_topic():
    assert {topic.key for topic in TOPICS} == {"account_id"}
    assert topic_for("ChargeScheduled", "store").name == "tienda.store.events"


def test_every_message_named_by_a_topic_is_defined_and_every_message_has_a_topic():
    named = {message for topic in TOPICS for message in topic.messages}
    assert named - set(MESSAGE_TYPES) == set(), "topics name messages no contract defines"
    assert set(MESSAGE_TYPES) - named == set(), "messages that no topic carries"


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for argument in get_args(annotation):
        yield from _models_in(argument)


def test_no_field_of_a_message_can_hold_a_subclass_of_its_type_so_encode_writes_every_field():
    """``encode`` serializes each nested model by its declared type (``serialize_as_any`` would cost
    twice as much): a field typed with a model that has subclasses would silently lose fields."""
    seen: set[type[BaseModel]] = set()
    to_visit = list(MESSAGE_TYPES.values())
    while to_visit:
        model = to_visit.pop()
        if model in seen:
            continue
        seen.add(model)
        for field in model.model_fields.values():
            to_visit.extend(_models_in(field.annotation))
    nested = seen - set(MESSAGE_TYPES.values())
    assert {model.__name__: [sub.__name__ for sub in model.__subclasses__()] for model in nested} == {
        model.__name__: [] for model in nested
    }


def test_an_emitted_message_is_encoded_as_its_full_payload():
    envelope = new_envelope(
        activation_requested(account(), ("DTE-100", 2)).payload, account_id="acc-1", producer="store"
    )
    assert encode(envelope) == envelope.model_dump_json(serialize_as_any=True).encode()
