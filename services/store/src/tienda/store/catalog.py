"""``python -m tienda.store.catalog``: load and list the store's catalog versions.

    python -m tienda.store.catalog load services/store/catalog/2026-12.json
    python -m tienda.store.catalog list
    python -m tienda.store.catalog --database-url postgresql+asyncpg://... load FILE.json

The database is the store's (``TIENDA_STORE_DATABASE_URL``, else ``.data/store.db``); it is
migrated first, so the command also works before the worker ever started. Migration 0002
seeds version ``2022-01``. The command exits 0 when the version is loaded or was already
loaded identically, 1 with every problem listed otherwise.

File format: one JSON object, a complete catalog (a SKU missing from it is not sold while it
is in force); the comments below explain, they are not part of the file::

    {
      "version": "2026-12",                 # unique name, 1 to 40 characters; never reused
      "effective_from": "2026-12-01",       # first day (Chile) it is in force; today or later
      "description": "Precios de diciembre de 2026",
      "products": [
        {
          "sku": "USR-EXTRA",               # 2 to 40 of A-Z 0-9 - _
          "description": "Usuario adicional",
          "resource": "users",              # users, dte_monthly, payroll_workers, legal_entities,
                                            # or module:<name> for a feature module
          "unit_price_uf": "0.5500",        # per unit per month, UF, at most 4 decimals (string or number)
          "min_quantity": 1,                # per cart line; default 1
          "max_quantity": 200,              # per cart line; default 1 (a module: always 1)
          "units_per_quantity": 1,          # resource units one quantity grants (a pack of 100 DTE: 100)
          "requires": [],                   # SKUs of modules that must be active or in the same cart
          "plans": []                       # plan codes that may buy it; empty: every plan
        }
      ]
    }

Rules: on any day the version in force is the one with the latest ``effective_from`` on or
before that day; an activation is priced with the version in force on its effective date
and keeps those prices forever (each activation line stores its price). A loaded version is
never edited: loading the same version again with other content is refused, and so is a
version that would take effect before today or on the same day as another.
"""

from tienda.store.entrypoints.cli import catalog

if __name__ == "__main__":
    catalog(prog_name="python -m tienda.store.catalog")
