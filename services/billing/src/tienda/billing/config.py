"""Billing's settings: environment variables prefixed TIENDA_BILLING_."""

from datetime import timedelta

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from tienda.messaging.settings import WorkerSettings


class BillingSettings(WorkerSettings):
    model_config = SettingsConfigDict(env_prefix="TIENDA_BILLING_", extra="ignore")

    http_port: int = 8082
    uf_hold_alert_minutes: float = Field(
        default=360, gt=0, description="A document held for a missing UF value this long raises uf_value_missing."
    )
    autopay_retry_days: list[int] = Field(
        default=[1, 3, 5],
        description="Days after the first failed card charge at which autopay retries, JSON e.g. [1, 3, 5].",
    )
    payment_match_grace_minutes: float = Field(
        default=1440,
        gt=0,
        description="A payment quoting an order or invoice billing has not created waits this long for it "
        "before it is raised as unmatched (payment_unmatched).",
    )
    scheduler_interval_seconds: float = Field(
        default=60, gt=0, description="How often the scheduler looks for renewals, retries and old holds."
    )

    @property
    def uf_hold_alert_after(self) -> timedelta:
        return timedelta(minutes=self.uf_hold_alert_minutes)

    @property
    def payment_match_grace(self) -> timedelta:
        return timedelta(minutes=self.payment_match_grace_minutes)
