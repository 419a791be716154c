"""What billing tells operations (tienda.ops.alerts): one sentence to act on, and the facts."""

from typing import Any

from tienda.billing import SERVICE
from tienda.contracts.envelope import EnvelopeHeader
from tienda.contracts.messages.operations import OperationsAlert, Severity
from tienda.messaging.unit_of_work import UnitOfWork


async def raise_alert(
    uow: UnitOfWork,
    account_id: str,
    kind: str,
    severity: Severity,
    summary: str,
    details: dict[str, Any],
    cause: EnvelopeHeader | None,
) -> None:
    await uow.emit(
        OperationsAlert(kind=kind, severity=severity, service=SERVICE, summary=summary, details=details),
        account_id=account_id,
        cause=cause,
    )


async def billing_data_missing(uow: UnitOfWork, account_id: str, invoice_id: str, cause: EnvelopeHeader | None) -> None:
    await raise_alert(
        uow,
        account_id,
        "billing_data_missing",
        Severity.WARNING,
        f"Invoice {invoice_id} of account {account_id} was issued without billing data (legal name, RUT): "
        "ask the customer to fill in Mis datos de pago before the DTE is sent to the SII.",
        {"invoice_id": invoice_id},
        cause,
    )
