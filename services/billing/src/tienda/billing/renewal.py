"""`python -m tienda.billing.renewal run --date 2027-01-31`: run renewal for a date, as an operator
(billing's ``renewal`` commands, ``tienda.billing.entrypoints.cli``)."""

from tienda.billing.entrypoints.cli import renewal

if __name__ == "__main__":
    renewal(prog_name="python -m tienda.billing.renewal")
