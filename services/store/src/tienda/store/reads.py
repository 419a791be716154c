"""`python -m tienda.store.reads <worker port>`: the store's read process, started by the store worker.

It answers the store's read endpoints (plan view, cart quote) on ``TIENDA_STORE_HTTP_PORT`` from the
store's database and forwards every other request (health, metrics, documents) to the worker on
127.0.0.1:<worker port> (``tienda.messaging.reads``). Not meant to be started by hand."""

import asyncio
import sys

from tienda.messaging.reads import serve_reads
from tienda.store import SERVICE
from tienda.store.bootstrap import read_routes
from tienda.store.config import StoreSettings

if __name__ == "__main__":
    settings = StoreSettings()
    asyncio.run(serve_reads(SERVICE, read_routes(settings), settings, worker_port=int(sys.argv[1])))
