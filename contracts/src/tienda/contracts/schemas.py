"""JSON Schemas of every message, as published, and the check that keeps them compatible.

``python -m tienda.contracts.schemas`` writes the schemas under ``contracts/schemas/``.
A published schema may only grow: new optional fields. Removing or renaming a field,
changing its type, or adding a required field is a breaking change; ship it as a new
``schema_version`` of a new message type instead.
"""

import json
import sys
from pathlib import Path
from typing import Any

from tienda.contracts.envelope import Envelope
from tienda.contracts.registry import MESSAGE_TYPES

SCHEMA_DIR = Path(__file__).resolve().parents[3] / "schemas"

Schema = dict[str, Any]


def schema_file_name(message_type: str, version: int) -> str:
    """The committed file of one message type's schema version."""
    return f"{message_type}.v{version}.json"


def current_schemas() -> dict[str, Schema]:
    """The schema of every message type as the code defines it now, by file name."""
    schemas = {}
    for name, payload in MESSAGE_TYPES.items():
        schema = Envelope[payload].model_json_schema(mode="serialization")  # type: ignore[valid-type]
        schema["title"] = name
        schemas[schema_file_name(name, payload.schema_version)] = schema
    return schemas


def published_schemas(directory: Path = SCHEMA_DIR) -> dict[str, Schema]:
    """The committed schemas, by file name."""
    return {path.name: json.loads(path.read_text()) for path in sorted(directory.glob("*.json"))}


def _resolve(node: Schema, root: Schema) -> Schema:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return _resolve(root["$defs"][ref.removeprefix("#/$defs/")], root)
    return node


def _shape(node: Schema, root: Schema) -> Any:
    """What a reader depends on: the JSON types a value may take, recursively for unions."""
    node = _resolve(node, root)
    if "anyOf" in node:
        return sorted(json.dumps(_shape(option, root), sort_keys=True) for option in node["anyOf"])
    if "enum" in node:
        return {"enum": sorted(map(str, node["enum"]))}
    if "const" in node:
        return {"const": node["const"]}
    return node.get("type", "any")


def _compare(old: Schema, new: Schema, old_root: Schema, new_root: Schema, path: str) -> list[str]:
    old, new = _resolve(old, old_root), _resolve(new, new_root)
    problems: list[str] = []
    if _shape(old, old_root) != _shape(new, new_root):
        return [f"{path or 'message'}: type changed from {_shape(old, old_root)} to {_shape(new, new_root)}"]
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for name in old_props:
        if name not in new_props:
            problems.append(f"{path}{name}: field removed or renamed")
        else:
            problems += _compare(old_props[name], new_props[name], old_root, new_root, f"{path}{name}.")
    for name in set(new.get("required", ())) - set(old.get("required", ())):
        problems.append(f"{path}{name}: new required field")
    if "items" in old and "items" in new:
        problems += _compare(old["items"], new["items"], old_root, new_root, f"{path}[].")
    return problems


def breaking_changes(published: Schema, current: Schema) -> list[str]:
    """Every way ``current`` would break a reader or writer of ``published``."""
    return _compare(published, current, published, current, "")


def export(directory: Path = SCHEMA_DIR) -> list[Path]:
    """Write the current schemas; refuse when one breaks its published version."""
    published = published_schemas(directory)
    current = current_schemas()
    problems = [
        f"{name}: {problem}"
        for name, schema in current.items()
        if name in published
        for problem in breaking_changes(published[name], schema)
    ]
    if problems:
        raise SystemExit("refusing to export breaking schema changes:\n  " + "\n  ".join(problems))
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in current.items():
        path = directory / name
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in export(Path(sys.argv[1]) if len(sys.argv) > 1 else SCHEMA_DIR):
        print(path)
