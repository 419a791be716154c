"""The AsyncAPI documents are generated from the code, committed, and valid for the
official AsyncAPI parser (@asyncapi/parser, installed by `make setup`)."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tienda.contracts.asyncapi import DOCS_DIR, document, documents
from tienda.contracts.ordering import ORDERING
from tienda.contracts.topics import SERVICES, topic_named, topics_consumed_by

ROOT = Path(__file__).resolve().parents[2]
VALIDATOR = ROOT / "tools" / "asyncapi" / "validate.mjs"


def official_parser(*paths: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    assert node, "Node.js is needed for the AsyncAPI parser"
    assert (VALIDATOR.parent / "node_modules" / "@asyncapi" / "parser").is_dir(), "run `make setup` (npm ci)"
    return subprocess.run(
        [node, str(VALIDATOR), *map(str, paths)], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize("name", sorted(documents()))
def test_the_committed_document_is_the_one_the_code_generates(name):
    committed = json.loads((DOCS_DIR / name).read_text())
    assert committed == documents()[name], "run `make docs` and commit docs/asyncapi/"


def test_the_official_asyncapi_parser_accepts_every_document():
    result = official_parser(*sorted(DOCS_DIR.glob("*.json")))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("valid AsyncAPI 3.0.0") == len(documents())


def test_the_official_parser_rejects_a_broken_copy(tmp_path):
    broken = json.loads((DOCS_DIR / "store.json").read_text())
    operation = next(iter(broken["operations"].values()))
    operation["action"] = "listen"
    operation["channel"] = {"$ref": "#/channels/no-such-channel"}
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken))
    result = official_parser(path)
    assert result.returncode == 1
    assert "INVALID" in result.stdout


def test_each_ordering_statement_describes_a_topic_its_service_consumes_and_is_in_its_document():
    for (service, topic_name), statement in ORDERING.items():
        assert service in topic_named(topic_name).consumers, (service, topic_name)
        [operation] = [
            op
            for op in document(service)["operations"].values()
            if op["action"] == "receive" and op["channel"]["$ref"] == f"#/channels/{topic_name.replace('.', '-')}"
        ]
        assert operation["description"] == statement


def test_every_topic_a_service_reads_states_what_it_does_about_order():
    consumed = {(service, topic.name) for service in SERVICES for topic in topics_consumed_by(service)}
    assert set(ORDERING) == consumed
    receives = [op for op in document()["operations"].values() if op["action"] == "receive"]
    assert all(op.get("description") for op in receives)
