"""`python -m tienda.billing.renewal run --date 2027-01-31`: run renewal for a date, as an operator.

It talks to billing's database (``TIENDA_BILLING_DATABASE_URL``, or the SQLite file in
``TIENDA_BILLING_DATA_DIR``) through the same service-layer function the worker's
scheduler uses. The invoices' messages wait in the outbox; a running billing worker
publishes them within a second (a stopped one, when it starts). A renewal already issued
for an account and period is never issued again, so running a date twice is harmless.
"""

import argparse
import asyncio
import json
import sys
from datetime import UTC, date, datetime

from tienda.billing import SERVICE
from tienda.billing.adapters.tables import messaging
from tienda.billing.bootstrap import MIGRATIONS
from tienda.billing.config import BillingSettings
from tienda.billing.service_layer.renewal import Renewed, renew_due_accounts
from tienda.messaging.database import create_engine, session_factory
from tienda.messaging.migrations import upgrade_to_head
from tienda.messaging.unit_of_work import UnitOfWork


async def run(on: date, settings: BillingSettings) -> list[Renewed]:
    engine = create_engine(settings.database_url_for(SERVICE))
    try:
        await upgrade_to_head(engine, MIGRATIONS)
        sessions = session_factory(engine)
        return await renew_due_accounts(lambda: UnitOfWork(sessions, messaging, SERVICE), on, datetime.now(UTC))
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tienda.billing.renewal", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run_command = commands.add_parser("run", help="issue every renewal invoice due by --date")
    run_command.add_argument("--date", required=True, type=date.fromisoformat, help="the renewal date, YYYY-MM-DD")
    arguments = parser.parse_args(argv)
    renewed = asyncio.run(run(arguments.date, BillingSettings()))
    for invoice in renewed:
        line = {
            "account_id": invoice.account_id,
            "invoice_id": invoice.invoice_id,
            "period": f"{invoice.period_start} to {invoice.period_end}",
            "status": invoice.status,
        }
        print(json.dumps(line))
    print(f"{len(renewed)} renewal invoice(s) for {arguments.date}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
