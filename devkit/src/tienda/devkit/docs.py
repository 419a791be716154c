"""`python -m tienda.devkit.docs`: write the committed OpenAPI documents of the workers.

The same documents are served live by each worker at ``/openapi.json``.
"""

import json
import sys
from pathlib import Path
from typing import Any, cast

from tienda.messaging.http import TokenRing
from tienda.messaging.worker import Runtime, ServiceDefinition, http_app

DOCS_DIR = Path(__file__).resolve().parents[4] / "docs" / "openapi"


def definitions() -> list[ServiceDefinition]:
    from tienda.advisor.bootstrap import definition as advisor  # noqa: PLC0415 - tools import services lazily
    from tienda.advisor.config import AdvisorSettings  # noqa: PLC0415
    from tienda.billing.bootstrap import definition as billing  # noqa: PLC0415
    from tienda.billing.config import BillingSettings  # noqa: PLC0415
    from tienda.store.bootstrap import definition as store  # noqa: PLC0415
    from tienda.store.config import StoreSettings  # noqa: PLC0415

    return [store(StoreSettings()), billing(BillingSettings()), advisor(AdvisorSettings())]


def document(definition: ServiceDefinition) -> dict[str, Any]:
    """The worker's OpenAPI document, from the routes it serves (no runtime needed to build them)."""
    return http_app(definition, cast(Runtime, None), TokenRing({}), {}).openapi()


def documents() -> dict[str, dict[str, Any]]:
    return {f"{d.name}.json": document(d) for d in definitions()}


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
