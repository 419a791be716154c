"""docker-compose.yml cannot rot unnoticed: Compose itself validates it here, daemon or not."""

import os
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


PASSWORDS = {
    f"TIENDA_KAFKA_{name}_PASSWORD": f"test-{name.lower()}"
    for name in ("ADMIN", "STORE", "BILLING", "ADVISOR", "ERP_WEB")
}


def secured_config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    compose = shutil.which("docker-compose")
    assert compose, "docker-compose is not installed: run `make setup`"
    files = ["-f", str(ROOT / "docker-compose.yml"), "-f", str(ROOT / "docker-compose.secured.yml")]
    return subprocess.run([compose, *files, "config"], capture_output=True, text=True, env=env, check=False)


def test_the_secured_compose_configuration_is_valid_and_every_client_authenticates():
    result = secured_config({**os.environ, **PASSWORDS})
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    kafka = services["kafka"]["environment"]
    assert kafka["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"] == "BROKER:SASL_SSL,CONTROLLER:SSL,HOST:SASL_SSL"
    assert kafka["KAFKA_AUTHORIZER_CLASS_NAME"].endswith("StandardAuthorizer")
    for name in ("store", "billing", "advisor"):
        env = services[name]["environment"]
        prefix = f"TIENDA_{name.upper()}_KAFKA_"
        assert (env[prefix + "SECURITY_PROTOCOL"], env[prefix + "SASL_USERNAME"]) == ("SASL_SSL", name)
        assert env[prefix + "SASL_PASSWORD"] == PASSWORDS[f"TIENDA_KAFKA_{name.upper()}_PASSWORD"]
        assert services[name]["depends_on"]["provision"]["condition"] == "service_completed_successfully"
    assert services["provision"]["environment"]["KAFKA_SASL_USERNAME"] == "admin"


def test_the_secured_compose_file_holds_no_password_and_refuses_to_run_without_them():
    text = (ROOT / "docker-compose.secured.yml").read_text()
    assert not [value for value in PASSWORDS.values() if value in text]
    without = {key: value for key, value in os.environ.items() if not key.startswith("TIENDA_KAFKA_")}
    refused = secured_config(without)
    assert refused.returncode != 0
    assert "TIENDA_KAFKA_" in refused.stderr
