"""The advisor's settings: environment variables prefixed TIENDA_ADVISOR_."""

from pydantic_settings import SettingsConfigDict

from tienda.messaging.settings import WorkerSettings


class AdvisorSettings(WorkerSettings):
    model_config = SettingsConfigDict(env_prefix="TIENDA_ADVISOR_", extra="ignore")

    http_port: int = 8083
