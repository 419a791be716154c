"""Documents held for a UF value: completed when the value arrives, alerted when it is late.

A conversion uses the UF value of the document's date. Billing never guesses one: a
document whose value is missing is held, and completes when the value arrives. A hold
older than the configured limit (``TIENDA_BILLING_UF_HOLD_ALERT_MINUTES``) raises one
``uf_value_missing`` alert per missing date. A value, once recorded for a day, is kept: a
different one for the same day is refused and raised (``uf_value_conflict``).
"""

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from tienda.billing.adapters import invoices, orders
from tienda.billing.domain import ids
from tienda.billing.domain.documents import Conversion
from tienda.billing.service_layer import alerts, documents, payments
from tienda.contracts.envelope import EnvelopeHeader
from tienda.contracts.messages.operations import Severity
from tienda.contracts.topics import PLATFORM_ACCOUNT
from tienda.messaging.unit_of_work import UnitOfWork


async def complete_held(uow: UnitOfWork, conversion: Conversion, cause: EnvelopeHeader, now: datetime) -> list[str]:
    """Complete every document held for this UF value; the accounts whose documents changed."""
    touched: dict[str, None] = {}
    for order in await orders.held_orders(uow.session, conversion.uf_date):
        await documents.complete_order(uow, order, conversion, cause, now)
        await payments.settle_waiting(uow, order.account_id, ids.order_invoice_id(order.order_id), cause)
        touched[order.account_id] = None
    for invoice in await invoices.held_invoices(uow.session, conversion.uf_date):
        await documents.complete_invoice(uow, invoice, conversion, cause, now)
        touched[invoice.account_id] = None
    return list(touched)


async def conflicting_value(uow: UnitOfWork, known: Conversion, published: Conversion, cause: EnvelopeHeader) -> None:
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
        cause,
    )


async def alert_old_holds(uow_factory: Callable[[], UnitOfWork], now: datetime, limit: timedelta) -> int:
    """One alert per UF date that documents have waited for longer than ``limit``; how many alerts."""
    async with uow_factory() as uow:
        old_orders = await orders.old_holds(uow.session, now - limit)
        old_invoices = await invoices.old_holds(uow.session, now - limit)
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
        await orders.mark_hold_alerted(uow.session, [o.order_id for o in old_orders], now)
        await invoices.mark_hold_alerted(uow.session, [i.invoice_id for i in old_invoices], now)
        await uow.commit()
    return len(by_date)
