"""AsyncAPI 3.0 documents of the whole system and of each service, generated from the
topic registry and the message models.

``python -m tienda.contracts.asyncapi`` writes them under ``docs/asyncapi/``; the test
suite checks the committed files are current and valid for the official AsyncAPI parser.
"""

import json
import sys
from pathlib import Path
from typing import Any

from tienda.contracts.envelope import Envelope
from tienda.contracts.ordering import ORDERING
from tienda.contracts.registry import MESSAGE_TYPES
from tienda.contracts.topics import SERVICES, TOPICS, Topic

DOCS_DIR = Path(__file__).resolve().parents[4] / "docs" / "asyncapi"
VERSION = "0.1.0"

Document = dict[str, Any]


def _message_schemas() -> tuple[dict[str, Any], dict[str, Any]]:
    """Each message's envelope schema, with every nested definition hoisted to components."""
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for name, payload in sorted(MESSAGE_TYPES.items()):
        schema = Envelope[payload].model_json_schema(  # type: ignore[valid-type]
            mode="serialization", ref_template="#/components/schemas/{model}"
        )
        schemas.update(schema.pop("$defs", {}))
        schema["title"] = name
        schemas[f"{name}Envelope"] = schema
        messages[name] = {
            "name": name,
            "title": name,
            "summary": (payload.__doc__ or "").strip().splitlines()[0],
            "contentType": "application/json",
            "payload": {"$ref": f"#/components/schemas/{name}Envelope"},
            "bindings": {"kafka": {"key": {"type": "string", "description": "The account id."}}},
        }
    return messages, schemas


def _channel_id(topic: Topic) -> str:
    return topic.name.replace(".", "-")


def _channel(topic: Topic) -> dict[str, Any]:
    return {
        "address": topic.name,
        "description": topic.description,
        "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in topic.messages},
        "bindings": {
            "kafka": {
                "partitions": topic.partitions,
                "topicConfiguration": {"cleanup.policy": ["compact" if topic.compacted else "delete"]},
            }
        },
    }


def _operation(service: str, action: str, topic: Topic) -> tuple[str, dict[str, Any]]:
    channel = _channel_id(topic)
    operation_id = f"{service}-{action}-{channel}"
    operation = {
        "action": action,
        "channel": {"$ref": f"#/channels/{channel}"},
        "summary": f"{service} {'consumes' if action == 'receive' else 'publishes'} {topic.name}",
        "messages": [{"$ref": f"#/channels/{channel}/messages/{name}"} for name in topic.messages],
    }
    ordering = ORDERING.get((service, topic.name)) if action == "receive" else None
    if ordering:
        operation["description"] = ordering
    return operation_id, operation


def document(service: str | None = None) -> Document:
    """The AsyncAPI document of one service (what it consumes and publishes) or of the system."""
    services = (service,) if service else SERVICES
    topics = [t for t in TOPICS if t.messages and any(s in t.consumers or s in t.producers for s in services)]
    used = {name for topic in topics for name in topic.messages}
    messages, schemas = _message_schemas()
    operations = dict(
        _operation(s, action, topic)
        for s in services
        for topic in topics
        for action, side in (("receive", topic.consumers), ("send", topic.producers))
        if s in side
    )
    title = f"Tienda {service}" if service else "Tienda"
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": title,
            "version": VERSION,
            "description": "Messages of Tienda, the self-service store of a SaaS ERP. Every message is one JSON "
            "envelope (event id, type, schema version, occurred-at, correlation and causation ids, producer, "
            "account id) with its payload; the Kafka key is the account id. Ordering: Kafka keeps the order "
            "of one partition of one topic, so one account's messages on one topic keep the order their "
            "producer gave them; two topics are never ordered against each other. Each receive operation "
            "says what its service does about the pairs whose order matters.",
        },
        "defaultContentType": "application/json",
        "servers": {"local": {"host": "127.0.0.1:9092", "protocol": "kafka", "description": "make run"}},
        "channels": {_channel_id(topic): _channel(topic) for topic in topics},
        "operations": operations,
        "components": {"messages": {k: v for k, v in messages.items() if k in used}, "schemas": schemas},
    }


def documents() -> dict[str, Document]:
    """Every document, by file name."""
    return {"tienda.json": document(), **{f"{service}.json": document(service) for service in SERVICES}}


def export(directory: Path = DOCS_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in documents().items():
        path = directory / name
        path.write_text(json.dumps(content, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in export(Path(sys.argv[1]) if len(sys.argv) > 1 else DOCS_DIR):
        print(path)
