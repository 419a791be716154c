"""How a client connects: settings per service prefix, the one place that builds FastStream's
and aiokafka's security, refusals that name the setting, and a password that never shows."""

import pytest
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512
from pydantic import ValidationError

from tienda.messaging.connection import KafkaConnection
from tienda.messaging.settings import ClientSettings
from tienda.store.config import StoreSettings

PASSWORD = "s3cret-of-the-store"


def sasl(**changes: object) -> KafkaConnection:
    settings = {
        "bootstrap_servers": "b1:9093,b2:9093",
        "security_protocol": "SASL_SSL",
        "sasl_username": "store",
        "sasl_password": PASSWORD,
    }
    return KafkaConnection.model_validate(settings | changes)


def test_a_service_reads_its_kafka_security_under_its_own_prefix(monkeypatch):
    monkeypatch.setenv("TIENDA_STORE_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("TIENDA_STORE_KAFKA_SASL_USERNAME", "store")
    monkeypatch.setenv("TIENDA_STORE_KAFKA_SASL_PASSWORD", PASSWORD)
    monkeypatch.setenv("TIENDA_BILLING_KAFKA_SASL_PASSWORD", "billing's")
    monkeypatch.setenv("TIENDA_STORE_KAFKA_REPLICATION_FACTOR", "3")
    settings = StoreSettings()
    connection = settings.kafka()
    assert (connection.security_protocol, connection.sasl_mechanism, connection.principal) == (
        "SASL_SSL",
        "SCRAM-SHA-512",
        "store",
    )
    assert connection.sasl_password.get_secret_value() == PASSWORD
    assert settings.kafka_replication_factor == 3
    assert PASSWORD not in repr(settings)
    assert PASSWORD not in str(settings.model_dump())


def test_the_operator_tools_read_unprefixed_variables(monkeypatch):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "k1:9093")
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SSL")
    assert ClientSettings().kafka().describe() == "k1:9093 (SSL)"


@pytest.mark.parametrize(
    ("mechanism", "security_class"),
    [("PLAIN", SASLPlaintext), ("SCRAM-SHA-256", SASLScram256), ("SCRAM-SHA-512", SASLScram512)],
)
def test_each_mechanism_becomes_faststreams_security_and_the_same_aiokafka_options(mechanism, security_class):
    connection = sasl(sasl_mechanism=mechanism)
    security = connection.security()
    options = connection.client_options()
    assert type(security) is security_class
    assert security.use_ssl
    assert (options["security_protocol"], options["sasl_mechanism"], options["sasl_plain_username"]) == (
        "SASL_SSL",
        mechanism,
        "store",
    )
    assert options["ssl_context"] is not None
    assert options["bootstrap_servers"] == "b1:9093,b2:9093"
    assert connection.servers == ["b1:9093", "b2:9093"]


def test_sasl_without_tls_and_tls_without_sasl():
    plaintext_sasl = sasl(security_protocol="SASL_PLAINTEXT").client_options()
    tls_only = KafkaConnection(security_protocol="SSL").security()
    assert (plaintext_sasl["security_protocol"], plaintext_sasl["ssl_context"]) == ("SASL_PLAINTEXT", None)
    assert type(tls_only) is BaseSecurity
    assert tls_only.use_ssl
    assert KafkaConnection().security() is None


def test_the_password_shows_nowhere_but_where_it_is_sent():
    connection = sasl()
    assert connection.describe() == "b1:9093,b2:9093 (SASL_SSL, SCRAM-SHA-512 as store)"
    assert PASSWORD not in repr(connection)
    assert PASSWORD not in connection.describe()
    assert connection.librdkafka_config()["sasl.password"] == PASSWORD


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"sasl_password": ""}, "security protocol SASL_SSL needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"),
        ({"ssl_cert_file": __file__}, "mutual TLS needs both KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE"),
        ({"ssl_ca_file": "/nowhere/ca.pem"}, "/nowhere/ca.pem does not exist or is not a file"),
        ({"security_protocol": "SASL_PLAINTEXT", "ssl_ca_file": __file__}, "TLS files are set but the security"),
    ],
)
def test_a_connection_that_could_never_work_is_refused_naming_the_setting(changes, message):
    with pytest.raises(ValidationError, match=message):
        sasl(**changes)
