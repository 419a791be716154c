"""docker-compose.yml cannot rot unnoticed: Compose itself validates it here, daemon or not."""

import shutil
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_docker_compose_file_is_valid_for_compose():
    compose = shutil.which("docker-compose")
    assert compose, "docker-compose is not installed: run `make setup`"
    result = subprocess.run(
        [compose, "-f", str(ROOT / "docker-compose.yml"), "config", "-q"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_docker_compose_runs_kafka_postgres_and_the_three_workers_with_their_own_databases():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert set(services) == {"kafka", "postgres", "store", "billing", "advisor"}
    for name in ("store", "billing", "advisor"):
        url = services[name]["environment"][f"TIENDA_{name.upper()}_DATABASE_URL"]
        assert url.endswith(f"/{name}")
        assert services[name]["depends_on"]["kafka"]["condition"] == "service_healthy"


def test_the_readme_names_every_topic_of_the_registry():
    from tienda.contracts.topics import TOPICS  # noqa: PLC0415

    readme = (ROOT / "README.md").read_text()
    assert [topic.name for topic in TOPICS if f"`{topic.name}`" not in readme] == []
