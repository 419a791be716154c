"""The advisor's use cases, one handler per message type it consumes."""

from collections.abc import Callable
from typing import Any

from sqlalchemy import insert

from tienda.advisor.adapters.tables import timeline
from tienda.advisor.domain.timeline import activation_summary, rejection_summary
from tienda.contracts.envelope import Envelope
from tienda.contracts.messages.activation import ActivationCompleted, ActivationRejected
from tienda.messaging.processor import Handler
from tienda.messaging.unit_of_work import UnitOfWork


def note_on_timeline(kind: str, summary: Callable[[Any], str]) -> Callable[[Envelope[Any], UnitOfWork], Any]:
    """A handler that writes one timeline entry per event."""

    async def handle(envelope: Envelope[Any], uow: UnitOfWork) -> None:
        await uow.session.execute(
            insert(timeline).values(
                account_id=envelope.account_id,
                event_id=str(envelope.event_id),
                kind=kind,
                summary=summary(envelope.payload),
                occurred_at=envelope.occurred_at,
            )
        )

    return handle


HANDLERS: dict[str, Handler] = {
    ActivationCompleted.message_type: note_on_timeline("activation_completed", activation_summary),
    ActivationRejected.message_type: note_on_timeline("activation_rejected", rejection_summary),
}
