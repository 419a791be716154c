"""`python -m tienda.advisor.cli corrections export`: the advisor's operator commands
(``tienda.advisor.entrypoints.cli``)."""

from tienda.advisor.entrypoints.cli import app

if __name__ == "__main__":
    app(prog_name="python -m tienda.advisor.cli")
