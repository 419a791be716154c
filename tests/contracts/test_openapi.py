"""The read endpoints' OpenAPI documents: generated from the workers' routes, committed, valid."""

import json

import pytest
from openapi_spec_validator import validate

from tienda.devkit.docs import DOCS_DIR, documents

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
        assert set(paths["/openapi.json"]) == set(paths["/asyncapi.json"]) == {"get"}
        assert not [path for path in paths if path.endswith("/try")]
