"""The store's consumer: the topics it reads, the handler of each message type, where failures go.

Reads, in group ``tienda-store``: ``tienda.activations.requested`` (carts and reductions from the
ERP web), ``tienda.accounts.plans`` (plans, suspensions, reinstatements) and ``tienda.indicators.uf``
(the day's UF value, for cart quotes). Each record is
decoded and deduplicated on its event id by ``tienda.messaging.processor``; its handler below
runs in one transaction with the messages it emits (outbox). A transient failure is retried
(``RETRY_DELAYS``); a message that can never be handled goes to ``tienda.deadletter.store``
unchanged, with the reason in its headers. Any other type on these topics is ignored.
"""

from tienda.contracts.messages.activation import ActivationRequested
from tienda.contracts.messages.billing import UfValuePublished
from tienda.contracts.messages.plans import AccountReinstated, AccountSuspended, PlanContracted
from tienda.contracts.messages.store import ReductionRequested
from tienda.contracts.topics import ACCOUNT_PLANS, ACTIVATION_REQUESTS, UF_VALUES
from tienda.messaging.consumer import Consumer
from tienda.store import SERVICE
from tienda.store.service_layer import handlers


def consumer() -> Consumer:
    return Consumer(
        SERVICE,
        topics=(ACTIVATION_REQUESTS, ACCOUNT_PLANS, UF_VALUES),
        handlers={
            ActivationRequested.message_type: handlers.activate_resources,
            ReductionRequested.message_type: handlers.schedule_reduction,
            PlanContracted.message_type: handlers.contract_plan,
            AccountSuspended.message_type: handlers.suspend_account,
            AccountReinstated.message_type: handlers.reinstate_account,
            UfValuePublished.message_type: handlers.record_uf_value,
        },
    )
