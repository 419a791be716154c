"""Many renewal-day accounts fast: copies of accounts seeded through billing's handlers.

Seeding 100,000 accounts through billing's handlers takes about 20 minutes (12 ms of CPU per
account); the renewal benchmark needs the rows, not that path. ``copy_accounts`` copies every row
of a seeded SQLite database (the accounts, their charges, orders, payments, invoices, cards,
billing data, views, inbox and outbox) ``copies`` times, each copy with new ids: the account
numbers shifted by ``copies × accounts`` (``acc-…-000123`` → ``acc-…-002123``), and new event,
activation, order and payment ids (derived from the old id and the copy, so that every reference
between rows stays consistent). The UF values are shared. Copy ``k`` of account ``n`` is account
``n + k × seeded``, with the same mix (add-ons, unpaid orders, credit, billing data, card) as ``n``.
"""

import hashlib
import re
import sqlite3
import uuid
from pathlib import Path

_ACCOUNT = r"(?P<account>acc-[\w]+-[0-9a-f]{6}-)(?P<number>\d{6})"
_UUID = r"(?P<uuid>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
_HEX_ID = r"(?P<prefix>ORD-|wp-|req-)(?P<hex>[0-9A-Fa-f]{8,12})\b"
_IDS = re.compile(f"{_ACCOUNT}|{_UUID}|{_HEX_ID}")
SHARED = {"uf_values", "alembic_version"}
"""Tables whose rows are not an account's: not copied."""


def _rename(text: str, copy: int, seeded: int) -> str:
    def new(match: "re.Match[str]") -> str:
        if match["account"]:
            return f"{match['account']}{int(match['number']) + copy * seeded:06d}"
        if match["uuid"]:
            return str(uuid.uuid5(uuid.NAMESPACE_OID, f"{copy}:{match['uuid']}"))
        old = match["hex"]
        digest = hashlib.blake2b(f"{copy}:{old}".encode(), digest_size=8).hexdigest()[: len(old)]
        return match["prefix"] + (digest.upper() if old.isupper() else digest)

    return _IDS.sub(new, text)


def copy_accounts(database: Path, copies: int, seeded: int) -> None:
    """Add ``copies`` copies of every account's rows of ``database`` (``seeded`` accounts in it)."""
    with sqlite3.connect(database, isolation_level=None) as connection:

        def rename(value: object, copy: int) -> object:
            if isinstance(value, str):
                return _rename(value, copy, seeded)
            if isinstance(value, bytes):
                return _rename(value.decode(), copy, seeded).encode()
            return value

        connection.create_function("renamed", 2, rename, deterministic=True)
        tables = [
            name
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if name not in SHARED and not name.startswith("sqlite_")
        ]
        connection.execute("BEGIN IMMEDIATE")
        for table in tables:
            columns = [(row[1], row[2].upper(), row[5]) for row in connection.execute(f'PRAGMA table_info("{table}")')]
            # an integer primary key of its own (the outbox's position) is given anew by SQLite
            kept = [c for c in columns if not (c[2] and c[1] == "INTEGER" and sum(1 for x in columns if x[2]) == 1)]
            names = ", ".join(f'"{name}"' for name, _, _ in kept)
            values = ", ".join(
                f'renamed("{name}", :copy)' if ("CHAR" in kind or "TEXT" in kind or "BLOB" in kind) else f'"{name}"'
                for name, kind, _ in kept
            )
            # names from the database's own schema, not from input
            rows = f'INSERT INTO "{table}" ({names}) SELECT {values} FROM "{table}" WHERE rowid <= :last'  # noqa: S608
            last = connection.execute(f'SELECT max(rowid) FROM "{table}"').fetchone()[0] or 0  # noqa: S608
            for copy in range(1, copies + 1):
                connection.execute(rows, {"copy": copy, "last": last})
        connection.execute("COMMIT")
