"""How every Tienda client reaches Kafka: the one place that turns connection settings into
FastStream's security object and aiokafka's keyword arguments (and librdkafka's, for the
operator tools that use it).

The password is a ``SecretStr`` here and everywhere it is kept: it prints as ``**********``,
and ``describe()`` (what logs and error messages show) never contains it.
"""

import ssl
from enum import StrEnum
from pathlib import Path
from typing import Any, Self

from faststream.kafka.security import parse_security
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512
from pydantic import BaseModel, ConfigDict, SecretStr, model_validator


class SecurityProtocol(StrEnum):
    PLAINTEXT = "PLAINTEXT"
    SSL = "SSL"
    SASL_PLAINTEXT = "SASL_PLAINTEXT"
    SASL_SSL = "SASL_SSL"

    @property
    def uses_tls(self) -> bool:
        return self in (SecurityProtocol.SSL, SecurityProtocol.SASL_SSL)

    @property
    def uses_sasl(self) -> bool:
        return self in (SecurityProtocol.SASL_PLAINTEXT, SecurityProtocol.SASL_SSL)


class SaslMechanism(StrEnum):
    PLAIN = "PLAIN"
    SCRAM_SHA_256 = "SCRAM-SHA-256"
    SCRAM_SHA_512 = "SCRAM-SHA-512"


_SECURITY_CLASSES: dict[SaslMechanism, type[SASLPlaintext | SASLScram256 | SASLScram512]] = {
    SaslMechanism.PLAIN: SASLPlaintext,
    SaslMechanism.SCRAM_SHA_256: SASLScram256,
    SaslMechanism.SCRAM_SHA_512: SASLScram512,
}


class KafkaConnection(BaseModel):
    """Where the brokers are and how to prove who we are to them."""

    model_config = ConfigDict(frozen=True)

    bootstrap_servers: str = "127.0.0.1:9092"
    security_protocol: SecurityProtocol = SecurityProtocol.PLAINTEXT
    sasl_mechanism: SaslMechanism = SaslMechanism.SCRAM_SHA_512
    sasl_username: str = ""
    sasl_password: SecretStr = SecretStr("")
    ssl_ca_file: Path | None = None
    ssl_cert_file: Path | None = None
    ssl_key_file: Path | None = None
    ssl_key_password: SecretStr | None = None
    ssl_check_hostname: bool = True

    @model_validator(mode="after")
    def _complete(self) -> Self:
        """Refuse, naming the setting, a combination that could never connect."""
        protocol = self.security_protocol
        if protocol.uses_sasl and not (self.sasl_username and self.sasl_password.get_secret_value()):
            raise ValueError(f"security protocol {protocol} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD")
        if (self.ssl_cert_file is None) != (self.ssl_key_file is None):
            raise ValueError("mutual TLS needs both KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE")
        tls_files = [self.ssl_ca_file, self.ssl_cert_file, self.ssl_key_file]
        if not protocol.uses_tls and any(tls_files):
            raise ValueError(f"TLS files are set but the security protocol is {protocol}: use SSL or SASL_SSL")
        for path in tls_files:
            if path is not None and not path.is_file():
                raise ValueError(f"{path} does not exist or is not a file")
        return self

    def replace(self, **changes: object) -> "KafkaConnection":
        """A copy with some settings changed, validated again (another user, password, CA...)."""
        return KafkaConnection.model_validate(self.model_dump() | changes)

    @property
    def servers(self) -> list[str]:
        """The bootstrap servers one by one (FastStream takes a comma-separated string as one host)."""
        return [server.strip() for server in self.bootstrap_servers.split(",") if server.strip()]

    @property
    def principal(self) -> str | None:
        """The SASL user this connection authenticates as, if any."""
        return self.sasl_username if self.security_protocol.uses_sasl else None

    def describe(self) -> str:
        """What to show in a log line: servers, protocol, mechanism and user; never the password."""
        text = f"{self.bootstrap_servers} ({self.security_protocol}"
        if self.security_protocol.uses_sasl:
            text += f", {self.sasl_mechanism} as {self.sasl_username}"
        if self.ssl_cert_file is not None:
            text += f", client certificate {self.ssl_cert_file}"
        return text + ")"

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context: the CA file (else the system's trust store), the client certificate if set."""
        if not self.security_protocol.uses_tls:
            return None
        context = ssl.create_default_context(cafile=str(self.ssl_ca_file) if self.ssl_ca_file else None)
        context.check_hostname = self.ssl_check_hostname
        if self.ssl_cert_file is not None and self.ssl_key_file is not None:
            password = self.ssl_key_password.get_secret_value() if self.ssl_key_password else None
            context.load_cert_chain(self.ssl_cert_file, self.ssl_key_file, password)
        return context

    def security(self) -> BaseSecurity | None:
        """FastStream's security object for ``KafkaBroker(security=...)``."""
        protocol, context = self.security_protocol, self.ssl_context()
        if protocol is SecurityProtocol.PLAINTEXT:
            return None
        if not protocol.uses_sasl:
            return BaseSecurity(ssl_context=context, use_ssl=True)
        return _SECURITY_CLASSES[self.sasl_mechanism](
            self.sasl_username, self.sasl_password.get_secret_value(), ssl_context=context, use_ssl=protocol.uses_tls
        )

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for aiokafka's producer, consumer and admin client: the same mapping
        FastStream applies to its own (``faststream.kafka.security.parse_security``)."""
        return {"bootstrap_servers": self.bootstrap_servers, **parse_security(self.security())}

    def librdkafka_config(self) -> dict[str, str | int | float | bool]:
        """The same connection for librdkafka (confluent-kafka, kcat)."""
        config: dict[str, str | int | float | bool] = {
            "bootstrap.servers": self.bootstrap_servers,
            "security.protocol": str(self.security_protocol),
        }
        if self.security_protocol.uses_sasl:
            config |= {
                "sasl.mechanism": str(self.sasl_mechanism),
                "sasl.username": self.sasl_username,
                "sasl.password": self.sasl_password.get_secret_value(),
            }
        if self.security_protocol.uses_tls:
            config["ssl.endpoint.identification.algorithm"] = "https" if self.ssl_check_hostname else "none"
            if self.ssl_ca_file is not None:
                config["ssl.ca.location"] = str(self.ssl_ca_file)
            if self.ssl_cert_file is not None and self.ssl_key_file is not None:
                config["ssl.certificate.location"] = str(self.ssl_cert_file)
                config["ssl.key.location"] = str(self.ssl_key_file)
            if self.ssl_key_password is not None:
                config["ssl.key.password"] = self.ssl_key_password.get_secret_value()
        return config


Kafka = KafkaConnection | str
"""What the messaging functions take: a full connection, or bootstrap servers for a plaintext broker."""


def connection_of(kafka: Kafka) -> KafkaConnection:
    """A connection from either form."""
    return kafka if isinstance(kafka, KafkaConnection) else KafkaConnection(bootstrap_servers=kafka)
