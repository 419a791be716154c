"""`python -m tienda.advisor`: run the advisor worker until SIGINT or SIGTERM."""

import asyncio

from tienda.advisor.bootstrap import definition
from tienda.advisor.config import AdvisorSettings
from tienda.messaging.worker import run_worker

if __name__ == "__main__":
    settings = AdvisorSettings()
    asyncio.run(run_worker(definition(settings), settings))
