"""Billing.s settings: environment variables prefixed TIENDA_BILLING_."""

from pydantic_settings import SettingsConfigDict

from tienda.messaging.settings import WorkerSettings


class BillingSettings(WorkerSettings):
    model_config = SettingsConfigDict(env_prefix="TIENDA_BILLING_", extra="ignore")

    http_port: int = 8082
