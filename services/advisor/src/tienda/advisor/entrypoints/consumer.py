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
from tienda.contracts.topics import ADVISOR_REQUESTS, BILLING_EVENTS, PAYMENTS_RECEIVED, STORE_EVENTS
from tienda.messaging.consumer import Consumer
from tienda.messaging.processor import Batched


def consumer(policy: AdvisorPolicy) -> Consumer:
    timeline = Batched(partial(handlers.note_events, policy=policy))  # one handler: consecutive events form one run
    return Consumer(
        SERVICE,
        topics=(STORE_EVENTS, PAYMENTS_RECEIVED, BILLING_EVENTS, ADVISOR_REQUESTS),
        handlers={
            requests.CommercialRequestSubmitted.message_type: partial(handlers.submit_request, policy=policy),
            requests.CommercialRequestUpdated.message_type: partial(handlers.update_request, policy=policy),
            requests.ExecutiveAssigned.message_type: handlers.assign_executive,
            **{event.message_type: timeline for event in handlers.TIMELINE_EVENTS},
        },
    )
