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
from tienda.contracts.messages.activation import ChargeScheduled
from tienda.contracts.messages.billing import BillingDataSubmitted, CardSubscribed, CardUnsubscribed, UfValuePublished
from tienda.contracts.messages.payment import PaymentFailed, PaymentReceived
from tienda.contracts.messages.plans import AccountReinstated, AccountSuspended, PlanContracted
from tienda.contracts.messages.store import ReductionScheduled
from tienda.messaging.processor import Handler

HANDLERS: dict[str, Handler] = {
    PlanContracted.message_type: contract_plan,
    AccountSuspended.message_type: suspend_account,
    AccountReinstated.message_type: reinstate_account,
    ChargeScheduled.message_type: schedule_charge,
    ReductionScheduled.message_type: schedule_reduction,
    PaymentReceived.message_type: record_payment,
    PaymentFailed.message_type: record_payment_failure,
    BillingDataSubmitted.message_type: submit_billing_data,
    CardSubscribed.message_type: subscribe_card,
    CardUnsubscribed.message_type: unsubscribe_card,
    UfValuePublished.message_type: record_uf_value,
}
