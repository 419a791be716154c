"""The billing view of an account, published after every change on the compacted snapshot topic."""

from tienda.billing.adapters import repository, views
from tienda.contracts.envelope import EnvelopeHeader
from tienda.contracts.messages.billing import BillingSnapshot
from tienda.contracts.topics import PLATFORM_ACCOUNT
from tienda.messaging.unit_of_work import UnitOfWork


async def emit_snapshot(uow: UnitOfWork, account_id: str, cause: EnvelopeHeader | None) -> None:
    """Publish the account's billing view as it is in this transaction, with the next revision."""
    if account_id == PLATFORM_ACCOUNT:
        return
    view = await views.account_view(uow.session, account_id)
    revision = await repository.next_revision(uow.session, account_id)
    snapshot = BillingSnapshot.model_validate({**view, "revision": revision, "as_of": uow.now})
    await uow.emit(snapshot, account_id=account_id, cause=cause)
