"""Billing's consumer: the topics it reads, the handler of each message type, where failures go.

Reads, in group ``tienda-billing``: ``tienda.accounts.plans`` (plans, suspensions),
``tienda.store.events`` (charges and reductions the store scheduled), ``tienda.payments.received``
(the gateway's payments and failures), ``tienda.billing.requests`` (billing data and cards from
the ERP web) and ``tienda.indicators.uf`` (the day's UF value). Each record is decoded and
deduplicated on its event id by ``tienda.messaging.processor``; its handler below runs in one
transaction with the messages it emits (outbox). A transient failure is retried
(``RETRY_DELAYS``); a message that can never be handled goes to ``tienda.deadletter.billing``
unchanged, with the reason in its headers. Any other type on these topics is ignored.
"""

from tienda.billing import SERVICE
from tienda.billing.service_layer import handlers
from tienda.contracts.messages.activation import ChargeScheduled
from tienda.contracts.messages.billing import BillingDataSubmitted, CardSubscribed, CardUnsubscribed, UfValuePublished
from tienda.contracts.messages.payment import PaymentFailed, PaymentReceived
from tienda.contracts.messages.plans import AccountReinstated, AccountSuspended, PlanContracted
from tienda.contracts.messages.store import ReductionScheduled
from tienda.contracts.topics import ACCOUNT_PLANS, BILLING_REQUESTS, PAYMENTS_RECEIVED, STORE_EVENTS, UF_VALUES
from tienda.messaging.consumer import Consumer
from tienda.messaging.processor import Batched


def consumer() -> Consumer:
    return Consumer(
        SERVICE,
        topics=(ACCOUNT_PLANS, STORE_EVENTS, PAYMENTS_RECEIVED, BILLING_REQUESTS, UF_VALUES),
        handlers={
            PlanContracted.message_type: handlers.contract_plan,
            AccountSuspended.message_type: handlers.suspend_account,
            AccountReinstated.message_type: handlers.reinstate_account,
            ChargeScheduled.message_type: Batched(handlers.schedule_charges),
            ReductionScheduled.message_type: handlers.schedule_reduction,
            PaymentReceived.message_type: handlers.record_payment,
            PaymentFailed.message_type: handlers.record_payment_failure,
            BillingDataSubmitted.message_type: handlers.submit_billing_data,
            CardSubscribed.message_type: handlers.subscribe_card,
            CardUnsubscribed.message_type: handlers.unsubscribe_card,
            UfValuePublished.message_type: handlers.record_uf_value,
        },
    )
