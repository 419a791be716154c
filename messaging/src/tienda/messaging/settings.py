"""Settings every worker reads at start, from the environment with its own prefix
(``TIENDA_STORE_``, ``TIENDA_BILLING_``, ``TIENDA_ADVISOR_``)."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DATA_DIR = Path(".data")


class WorkerSettings(BaseSettings):
    """What a worker needs to run. Subclasses set the prefix and the defaults of their service."""

    model_config = SettingsConfigDict(extra="ignore")

    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092", description="Kafka brokers, comma-separated host:port."
    )
    database_url: str = Field(default="", description="SQLAlchemy async URL; empty means a SQLite file in data_dir.")
    data_dir: Path = Field(default=DATA_DIR, description="Where the default SQLite file lives.")
    http_host: str = Field(default="127.0.0.1", description="Address of health and read endpoints.")
    http_port: int = Field(default=0, description="Port of health and read endpoints.")
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
        default=100, ge=1, description="Records handled in one transaction at most; 1: one transaction per message."
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
