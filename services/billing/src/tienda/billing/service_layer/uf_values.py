"""UF values: recorded once per day, completing the documents held for them; old holds alerted.

A conversion uses the UF value of the document's date. Billing never guesses one: a
document whose value is missing is held, and completes when the value arrives. A hold
older than the configured limit (``TIENDA_BILLING_UF_HOLD_ALERT_MINUTES``) raises one
``uf_value_missing`` alert per missing date.
"""

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from tienda.billing.adapters import repository
from tienda.billing.domain.documents import Conversion
from tienda.billing.service_layer import alerts, documents, views
from tienda.contracts.envelope import Envelope
from tienda.contracts.messages.billing import UfValuePublished
from tienda.contracts.messages.operations import Severity
from tienda.contracts.topics import PLATFORM_ACCOUNT
from tienda.messaging.unit_of_work import UnitOfWork


async def record_uf_value(envelope: Envelope[UfValuePublished], uow: UnitOfWork) -> None:
    published, now = envelope.payload, uow.now
    conversion = Conversion(published.uf_date, published.clp_per_uf)
    known = await repository.uf_value(uow.session, published.uf_date)
    if known is not None:
        if known.clp_per_uf != conversion.clp_per_uf:
            await _conflicting(uow, known, conversion, envelope)
        return
    await repository.add_uf_value(uow.session, conversion, str(envelope.event_id), now)
    touched: dict[str, None] = {}
    for order in await repository.held_orders(uow.session, published.uf_date):
        await documents.complete_order(uow, order, conversion, envelope, now)
        touched[order.account_id] = None
    for invoice in await repository.held_invoices(uow.session, published.uf_date):
        await documents.complete_invoice(uow, invoice, conversion, envelope, now)
        touched[invoice.account_id] = None
    for account_id in touched:
        await views.emit_snapshot(uow, account_id, envelope)


async def _conflicting(
    uow: UnitOfWork, known: Conversion, published: Conversion, envelope: Envelope[UfValuePublished]
) -> None:
    await alerts.raise_alert(
        uow,
        PLATFORM_ACCOUNT,
        "uf_value_conflict",
        Severity.CRITICAL,
        f"The indicator feed published {published.clp_per_uf} CLP for the UF of {known.uf_date}, but billing already "
        f"converted with {known.clp_per_uf}; billing keeps the first value: check the feed.",
        {
            "uf_date": known.uf_date.isoformat(),
            "kept": str(known.clp_per_uf),
            "published": str(published.clp_per_uf),
        },
        envelope,
    )


async def alert_old_holds(uow_factory: Callable[[], UnitOfWork], now: datetime, limit: timedelta) -> int:
    """One alert per UF date that documents have waited for longer than ``limit``; how many alerts."""
    async with uow_factory() as uow:
        old_orders, old_invoices = await repository.holds_older_than(uow.session, now - limit)
        by_date: dict[date, dict[str, Any]] = {}
        holds: list[tuple[date, datetime | None]] = [(o.uf_date, o.held_since) for o in old_orders]
        holds += [(i.uf_date, i.held_since) for i in old_invoices]
        for uf_date, held_since in holds:
            entry = by_date.setdefault(uf_date, {"orders": [], "invoices": [], "held_since": held_since or now})
            entry["held_since"] = min(entry["held_since"], held_since or now)
        for order in old_orders:
            by_date[order.uf_date]["orders"].append({"account_id": order.account_id, "order_id": order.order_id})
        for invoice in old_invoices:
            by_date[invoice.uf_date]["invoices"].append(
                {"account_id": invoice.account_id, "invoice_id": invoice.invoice_id}
            )
        for uf_date, held in sorted(by_date.items()):
            count = len(held["orders"]) + len(held["invoices"])
            await alerts.raise_alert(
                uow,
                PLATFORM_ACCOUNT,
                "uf_value_missing",
                Severity.CRITICAL,
                f"No UF value for {uf_date}: {count} document(s) have waited since {held['held_since']:%Y-%m-%d %H:%M} "
                "UTC; publish the value on tienda.indicators.uf and they complete by themselves.",
                {
                    "uf_date": uf_date.isoformat(),
                    "held_since": held["held_since"].isoformat(),
                    "orders": held["orders"],
                    "invoices": held["invoices"],
                },
                None,
            )
        await repository.mark_hold_alerted(
            uow.session, [o.order_id for o in old_orders], [i.invoice_id for i in old_invoices], now
        )
        await uow.commit()
    return len(by_date)
