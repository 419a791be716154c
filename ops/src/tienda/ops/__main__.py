"""`python -m tienda.ops`."""

from tienda.ops.cli import app

app()
