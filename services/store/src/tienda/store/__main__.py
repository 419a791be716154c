"""`python -m tienda.store`: run the store worker until SIGINT or SIGTERM."""

import asyncio

from tienda.messaging.worker import run_worker
from tienda.store.bootstrap import definition
from tienda.store.config import StoreSettings

if __name__ == "__main__":
    settings = StoreSettings()
    asyncio.run(run_worker(definition(settings), settings))
