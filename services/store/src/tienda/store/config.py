"""The store's settings: environment variables prefixed TIENDA_STORE_."""

from datetime import timedelta

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from tienda.messaging.settings import WorkerSettings


class StoreSettings(WorkerSettings):
    model_config = SettingsConfigDict(env_prefix="TIENDA_STORE_", extra="ignore")

    http_port: int = 8081
    read_processes: int = Field(
        default=1,
        ge=0,
        description="Processes that answer the plan view and cart quotes (python -m tienda.store.reads, "
        "started by the worker), so that they do not wait behind the consumer's batches on the worker's "
        "event loop; several share HTTP_PORT (SO_REUSEPORT); 0: the worker answers them itself.",
    )
    unknown_account_wait_seconds: float = Field(
        default=24 * 60 * 60,
        gt=0,
        description="How long a cart or reduction of an account whose plan the store has not received "
        "waits for the plan before it is refused as unknown_account.",
    )
    scheduler_interval_seconds: float = Field(
        default=60, gt=0, description="How often the store refuses the requests that waited too long for a plan."
    )

    @property
    def unknown_account_wait(self) -> timedelta:
        return timedelta(seconds=self.unknown_account_wait_seconds)
