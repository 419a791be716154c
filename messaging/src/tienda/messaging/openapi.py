"""The OpenAPI 3.1 document of a worker's HTTP surface, read off its routes.

Each route's summary and description come from its endpoint's docstring; routes under
``/accounts/{account_id}`` and ``/executives/...`` need a bearer token (401 without a
valid one, 403 for an account the token may not read)."""

import re
from collections.abc import Sequence
from typing import Any

from starlette.routing import BaseRoute, Route

PUBLIC = ("/health/", "/metrics", "/openapi.json", "/asyncapi.json")
PARAMETER = re.compile(r"{([a-z_]+)(?::[a-z]+)?}")


def _operation(route: Route, method: str) -> dict[str, Any]:
    doc = (route.endpoint.__doc__ or f"{method} {route.path}").strip()
    summary, _, description = doc.partition("\n")
    operation: dict[str, Any] = {
        "operationId": f"{method.lower()}_{route.path.strip('/').replace('/', '_').replace('{', '').replace('}', '')}",
        "summary": summary.strip() or route.path,
        "responses": {"200": {"description": "JSON", "content": {"application/json": {"schema": {"type": "object"}}}}},
    }
    if description.strip():
        operation["description"] = " ".join(description.split())
    names = PARAMETER.findall(route.path)
    if names:
        operation["parameters"] = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in names
        ]
    if not route.path.startswith(PUBLIC):
        operation["security"] = [{"bearer": []}]
        operation["responses"] |= {
            "401": {"description": "Missing or unknown bearer token."},
            "403": {"description": "The token may not read this account."},
        }
    if route.path.startswith("/health/ready"):
        operation["responses"]["503"] = {"description": "A dependency does not answer; the body names it."}
    if route.path == "/metrics":
        operation["responses"] = {"200": {"description": "Prometheus text format", "content": {"text/plain": {}}}}
    return operation


def openapi_document(service: str, routes: Sequence[BaseRoute], version: str = "0.1.0") -> dict[str, Any]:
    """Every GET/POST route of the worker, as OpenAPI 3.1."""
    paths: dict[str, Any] = {}
    for route in routes:
        if not isinstance(route, Route):
            continue
        path = PARAMETER.sub(lambda match: "{" + match.group(1) + "}", route.path)
        for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
            paths.setdefault(path, {})[method.lower()] = _operation(route, method)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"Tienda {service} worker",
            "version": version,
            "description": f"Health, metrics and read endpoints of the {service} worker.",
        },
        "servers": [{"url": "http://127.0.0.1"}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "paths": dict(sorted(paths.items())),
    }
