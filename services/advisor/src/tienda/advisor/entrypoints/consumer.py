"""The advisor's consumer: the topics it reads, the handler of each message type, where failures go.

Reads, in group ``tienda-advisor``: ``tienda.advisor.requests`` (commercial requests, their
updates and executive assignments), and for the commercial timeline ``tienda.store.events``,
``tienda.billing.events`` and ``tienda.payments.received``. Each record is decoded and
deduplicated on its event id by ``tienda.messaging.processor``; its handler below runs in one
transaction with the messages it emits (outbox). A transient failure is retried
(``RETRY_DELAYS``); a message that can never be handled goes to ``tienda.deadletter.advisor``
unchanged, with the reason in its headers. Any other type on these topics is ignored.
"""

from functools import partial

from tienda.advisor import SERVICE
from tienda.advisor.domain.policy import AdvisorPolicy
from tienda.advisor.service_layer import handlers
from tienda.contracts.messages import advisor as requests
from tienda.contracts.messages.activation import ActivationCompleted, ActivationRejected, ChargeScheduled
from tienda.contracts.messages.billing import AutopayFailed, InvoiceIssued, OrderCreated, PaymentRecorded
from tienda.contracts.messages.payment import PaymentFailed, PaymentReceived
from tienda.contracts.messages.store import ReductionRejected, ReductionScheduled
from tienda.contracts.topics import ADVISOR_REQUESTS, BILLING_EVENTS, PAYMENTS_RECEIVED, STORE_EVENTS
from tienda.messaging.consumer import Consumer


def consumer(policy: AdvisorPolicy) -> Consumer:
    return Consumer(
        SERVICE,
        topics=(STORE_EVENTS, PAYMENTS_RECEIVED, BILLING_EVENTS, ADVISOR_REQUESTS),
        handlers={
            requests.CommercialRequestSubmitted.message_type: partial(handlers.submit_request, policy=policy),
            requests.CommercialRequestUpdated.message_type: partial(handlers.update_request, policy=policy),
            requests.ExecutiveAssigned.message_type: handlers.assign_executive,
            ActivationCompleted.message_type: partial(handlers.note_activation, policy=policy),
            ActivationRejected.message_type: partial(handlers.note_rejected_activation, policy=policy),
            AutopayFailed.message_type: partial(handlers.note_failed_autopay, policy=policy),
            ChargeScheduled.message_type: handlers.note_charge,
            PaymentReceived.message_type: handlers.note_payment,
            PaymentFailed.message_type: handlers.note_payment_failure,
            ReductionScheduled.message_type: handlers.note_reduction,
            ReductionRejected.message_type: handlers.note_rejected_reduction,
            OrderCreated.message_type: handlers.note_order,
            InvoiceIssued.message_type: handlers.note_invoice,
            PaymentRecorded.message_type: handlers.note_recorded_payment,
        },
    )
