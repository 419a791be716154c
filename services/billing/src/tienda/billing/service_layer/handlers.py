"""Billing's use cases, one handler per message type it consumes."""

from tienda.billing.service_layer.autopay import subscribe_card, unsubscribe_card
from tienda.billing.service_layer.billing_data import submit_billing_data
from tienda.billing.service_layer.charging import (
    contract_plan,
    reinstate_account,
    schedule_charge,
    schedule_reduction,
    suspend_account,
)
from tienda.billing.service_layer.paying import record_payment, record_payment_failure
from tienda.billing.service_layer.uf_values import record_uf_value

__all__ = [
    "contract_plan",
    "record_payment",
    "record_payment_failure",
    "record_uf_value",
    "reinstate_account",
    "schedule_charge",
    "schedule_reduction",
    "submit_billing_data",
    "subscribe_card",
    "suspend_account",
    "unsubscribe_card",
]
