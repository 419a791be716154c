"""Settings every worker reads at start, from the environment with its own prefix
(``TIENDA_STORE_``, ``TIENDA_BILLING_``, ``TIENDA_ADVISOR_``)."""

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from tienda.messaging.connection import KafkaConnection, SaslMechanism, SecurityProtocol

DATA_DIR = Path(".data")


class KafkaSettings(BaseSettings):
    """How to reach Kafka and what a topic created by Tienda must look like. Workers read these
    with their prefix (``TIENDA_STORE_KAFKA_...``); the operator tools without one (``KAFKA_...``)."""

    model_config = SettingsConfigDict(extra="ignore")

    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092", description="Kafka brokers, comma-separated host:port."
    )
    kafka_security_protocol: SecurityProtocol = Field(
        default=SecurityProtocol.PLAINTEXT, description="PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL."
    )
    kafka_sasl_mechanism: SaslMechanism = Field(
        default=SaslMechanism.SCRAM_SHA_512, description="PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (SASL protocols)."
    )
    kafka_sasl_username: str = Field(default="", description="The SASL user: the principal ACLs name.")
    kafka_sasl_password: SecretStr = Field(
        default=SecretStr(""), description="The SASL password; never logged, never shown."
    )
    kafka_ssl_ca_file: Path | None = Field(
        default=None, description="PEM file of the CA that signed the brokers' certificates; unset: the system's."
    )
    kafka_ssl_cert_file: Path | None = Field(default=None, description="PEM client certificate (mutual TLS).")
    kafka_ssl_key_file: Path | None = Field(default=None, description="PEM private key of the client certificate.")
    kafka_ssl_key_password: SecretStr | None = Field(default=None, description="Password of an encrypted key.")
    kafka_ssl_check_hostname: bool = Field(
        default=True, description="Check that a broker's certificate names the host connected to."
    )
    kafka_replication_factor: int = Field(
        default=-1,
        ge=-1,
        description="Replication factor of the topics Tienda creates; -1: the cluster's default.replication.factor.",
    )
    kafka_min_insync_replicas: int | None = Field(
        default=None, ge=1, description="min.insync.replicas of the topics Tienda creates; unset: the cluster's."
    )

    def kafka(self) -> KafkaConnection:
        """The connection these settings describe (refused with the setting named when incomplete)."""
        return KafkaConnection(
            bootstrap_servers=self.kafka_bootstrap_servers,
            security_protocol=self.kafka_security_protocol,
            sasl_mechanism=self.kafka_sasl_mechanism,
            sasl_username=self.kafka_sasl_username,
            sasl_password=self.kafka_sasl_password,
            ssl_ca_file=self.kafka_ssl_ca_file,
            ssl_cert_file=self.kafka_ssl_cert_file,
            ssl_key_file=self.kafka_ssl_key_file,
            ssl_key_password=self.kafka_ssl_key_password,
            ssl_check_hostname=self.kafka_ssl_check_hostname,
        )


class ClientSettings(KafkaSettings):
    """The operator tools, benchmarks and scripts: ``KAFKA_BOOTSTRAP_SERVERS``, ``KAFKA_SECURITY_PROTOCOL``..."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore")


def client_connection(bootstrap_servers: str | None = None) -> KafkaConnection:
    """The operator tools' connection: the ``KAFKA_*`` variables, with the servers given on the
    command line instead of ``KAFKA_BOOTSTRAP_SERVERS`` when there are some."""
    overrides = {"kafka_bootstrap_servers": bootstrap_servers} if bootstrap_servers else {}
    return ClientSettings(**overrides).kafka()  # type: ignore[arg-type]


class WorkerSettings(KafkaSettings):
    """What a worker needs to run. Subclasses set the prefix and the defaults of their service."""

    model_config = SettingsConfigDict(extra="ignore")

    database_url: str = Field(default="", description="SQLAlchemy async URL; empty means a SQLite file in data_dir.")
    data_dir: Path = Field(default=DATA_DIR, description="Where the default SQLite file lives.")
    http_host: str = Field(default="127.0.0.1", description="Address of health and read endpoints.")
    http_port: int = Field(default=0, description="Port of health and read endpoints.")
    read_processes: int = Field(
        default=0,
        ge=0,
        description="Processes that serve the service's read endpoints on HTTP_PORT beside the worker (the "
        "worker starts them; they forward health, metrics and documents to it); 0: the worker serves them. "
        "Only services whose read endpoints only read have them (the store).",
    )
    api_tokens: dict[str, list[str]] = Field(
        default_factory=dict,
        description='Bearer tokens of the read endpoints, JSON: {"token": ["account", ...]}; '
        '["*"] allows every account.',
    )
    retry_delays: list[float] = Field(
        default=[0.2, 0.5, 1.0, 2.0, 4.0, 8.0],
        description="Seconds before each retry of a transient failure; then the dead-letter topic.",
    )
    relay_batch_size: int = Field(default=500, ge=1)
    relay_lease: bool = Field(
        default=True,
        description="On PostgreSQL, one replica at a time relays the outbox (it holds the relay lease, an "
        "advisory lock); false: every replica relays it, and each row reaches Kafka once per replica.",
    )
    relay_lease_poll: float = Field(
        default=0.5,
        gt=0,
        description="Seconds between a standby replica's tries at the relay lease (how soon it takes over) "
        "and between the holder's checks that it still holds it.",
    )
    consume_batch_size: int = Field(
        default=500, ge=1, description="Records handled in one transaction at most; 1: one transaction per message."
    )
    consume_fetch_min_bytes: int = Field(
        default=1,
        ge=1,
        description="Bytes the broker gathers before it answers a fetch (Kafka's fetch.min.bytes), unless "
        "CONSUME_FETCH_MAX_WAIT_MS passes first.",
    )
    consume_fetch_max_wait_ms: int = Field(
        default=500, ge=0, description="Milliseconds the broker holds a fetch waiting for CONSUME_FETCH_MIN_BYTES."
    )
    publish_linger_ms: int = Field(
        default=0,
        ge=0,
        description="Milliseconds the worker's producer waits to gather records into one request (Kafka's linger.ms).",
    )
    commit_interval: float = Field(
        default=1.0,
        ge=0,
        description="Seconds between consumer offset commits at most (also on rebalance and stop); "
        "0: after every batch. A crash re-reads at most this much, and the inbox drops it.",
    )
    heartbeat_seconds: float = Field(default=10.0, gt=0, description="How often the worker publishes a heartbeat.")
    dead_letter_alert_at: int = Field(
        default=10, ge=1, description="Dead letters within the alert window that raise an alert."
    )
    dead_letter_alert_window: float = Field(
        default=300.0, gt=0, description="Seconds over which dead letters are counted; at most one alert each."
    )
    log_level: str = "INFO"
    log_json: bool = Field(default=True, description="One JSON object per log line.")

    def database_url_for(self, service: str) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir / service}.db"
