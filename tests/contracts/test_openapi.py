"""The read endpoints' OpenAPI documents: generated from the workers' routes, committed, valid."""

import json
from typing import cast

import httpx
import pytest
from openapi_spec_validator import validate

from tienda.devkit.docs import DOCS_DIR, definitions, documents
from tienda.messaging.http import TokenRing
from tienda.messaging.worker import Runtime, http_app

GENERATED = documents()


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_the_committed_openapi_document_is_the_one_the_routes_generate(name):
    assert json.loads((DOCS_DIR / name).read_text()) == GENERATED[name], "run `make docs` and commit docs/openapi/"


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_the_openapi_document_is_valid(name):
    validate(GENERATED[name])


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_read_endpoints_need_a_token_and_health_does_not(name):
    paths = GENERATED[name]["paths"]
    for path, operations in paths.items():
        for operation in operations.values():
            assert ("security" in operation) == path.startswith(("/accounts/", "/executives/", "/admin/")), path


def test_the_documents_are_served_read_only_with_no_try_it_route():
    for document in GENERATED.values():
        paths = document["paths"]
        assert set(paths["/asyncapi.json"]) == {"get"}
        assert not [path for path in paths if path.endswith("/try") or path.startswith("/docs")]


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_every_endpoint_says_what_it_returns(name):
    for path, operations in GENERATED[name]["paths"].items():
        for method, operation in operations.items():
            answer = operation["responses"]["200"]["content"]
            assert answer.get("application/json", {}).get("schema") or "text/plain" in answer, (method, path)
            assert operation["summary"], (method, path)
            assert not operation["summary"].istitle(), f"{method} {path}: summary from the endpoint's docstring"


@pytest.mark.parametrize("definition", definitions(), ids=lambda definition: definition.name)
async def test_the_worker_serves_its_committed_openapi_document(definition):
    app = http_app(definition, cast(Runtime, None), TokenRing({}), {})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://worker") as http:
        served = (await http.get("/openapi.json")).json()
    assert served == json.loads((DOCS_DIR / f"{definition.name}.json").read_text())


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_every_endpoint_of_a_service_answers_a_named_schema_that_lists_its_fields(name):
    """Read models, not bare objects: each 200 of a service's own endpoints refers by name to a schema
    that lists its fields (the health, metrics and document routes are the worker's, not the service's)."""
    document = GENERATED[name]
    schemas = document["components"]["schemas"]
    own = {
        path: operations
        for path, operations in document["paths"].items()
        if path.startswith(("/accounts/", "/admin/", "/executives/"))
    }
    assert own
    for path, operations in own.items():
        for method, operation in operations.items():
            schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
            assert set(schema) == {"$ref"}, (method, path, schema)
            model = schemas[schema["$ref"].removeprefix("#/components/schemas/")]
            assert model["properties"], (method, path, model)


def test_billing_serves_its_eight_endpoints():
    paths = GENERATED["billing.json"]["paths"]
    assert len([path for path in paths if path.startswith(("/accounts/", "/admin/"))]) == 8
