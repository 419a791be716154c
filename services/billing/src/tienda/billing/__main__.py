"""`python -m tienda.billing`: run the billing worker until SIGINT or SIGTERM."""

import asyncio

from tienda.billing.bootstrap import definition
from tienda.billing.config import BillingSettings
from tienda.messaging.worker import run_worker

if __name__ == "__main__":
    settings = BillingSettings()
    asyncio.run(run_worker(definition(settings), settings))
