"""The store's settings: environment variables prefixed TIENDA_STORE_."""

from pydantic_settings import SettingsConfigDict

from tienda.messaging.settings import WorkerSettings


class StoreSettings(WorkerSettings):
    model_config = SettingsConfigDict(env_prefix="TIENDA_STORE_", extra="ignore")

    http_port: int = 8081
