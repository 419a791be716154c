"""A real throwaway PostgreSQL: start, databases, crash and restart, stop."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tienda.devkit.ports import accepts_connections
from tienda.devkit.postgres import (
    PG_BIN_ENV,
    LocalPostgres,
    PostgresError,
    PostgresNotFoundError,
    PostgresStartError,
    find_pg_bin,
)

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]


def processes_in(data_dir: Path) -> list[int]:
    """PIDs whose working directory is data_dir: every PostgreSQL process of a cluster."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if Path(os.readlink(entry / "cwd")) == data_dir:
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


async def run_sql(url: str, *statements: str) -> object:
    """Run statements in one committed transaction; the scalar result of the last."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            result = None
            for statement in statements:
                result = await conn.execute(text(statement))
            return result.scalar() if result is not None and result.returns_rows else None
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def server() -> Iterator[LocalPostgres]:
    pg = LocalPostgres()
    try:
        pg.start()
        yield pg
    except BaseException:
        print(pg.log_tail())
        raise
    finally:
        pg.cleanup()


def test_find_pg_bin_has_server_tools() -> None:
    bin_dir = find_pg_bin()
    assert (bin_dir / "initdb").is_file()
    assert (bin_dir / "pg_ctl").is_file()


def test_find_pg_bin_rejects_a_wrong_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(PG_BIN_ENV, str(tmp_path))
    with pytest.raises(PostgresNotFoundError, match="lacks initdb, pg_ctl"):
        find_pg_bin()


def test_server_listens_on_loopback_and_logs(server: LocalPostgres) -> None:
    assert server.is_running()
    assert accepts_connections(server.port)
    assert server.url() == f"postgresql+asyncpg://postgres@127.0.0.1:{server.port}/postgres"
    assert "ready to accept connections" in server.log_tail()


@pytest.mark.asyncio
async def test_two_databases_are_separate(server: LocalPostgres) -> None:
    orders_url = server.create_database("orders")
    billing_url = server.create_database("billing")
    assert orders_url == server.url("orders")
    assert billing_url.endswith(f":{server.port}/billing")

    assert server.dsn("orders") == f"postgresql://postgres@127.0.0.1:{server.port}/orders"

    orders = create_async_engine(orders_url)
    try:
        async with orders.begin() as conn:
            await conn.execute(text("CREATE TABLE item (id int PRIMARY KEY)"))
            await conn.execute(text("INSERT INTO item VALUES (1), (2)"))
        async with orders.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM item"))).scalar() == 2
    finally:
        await orders.dispose()

    engine = create_async_engine(billing_url)
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT current_database()"))).scalar() == "billing"
            missing = await conn.execute(text("SELECT to_regclass('item') IS NULL"))
            assert missing.scalar() is True
    finally:
        await engine.dispose()


def test_create_database_twice_says_so(server: LocalPostgres) -> None:
    server.create_database("twice")
    with pytest.raises(PostgresError, match="already exists"):
        server.create_database("twice")


def test_database_names_must_be_plain_identifiers(server: LocalPostgres) -> None:
    with pytest.raises(ValueError, match="not a plain identifier"):
        server.create_database('bad"; DROP')


def test_taken_port_is_a_clear_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        pg = LocalPostgres(port=sock.getsockname()[1])
        try:
            with pytest.raises(PostgresStartError, match="already in use"):
                pg.start()
        finally:
            pg.cleanup()


@pytest.mark.asyncio
async def test_committed_row_survives_kill_and_restart() -> None:
    pg = LocalPostgres()
    try:
        pg.start()
        port, data_dir = pg.port, pg.data_dir
        url = pg.create_database("durable")
        await run_sql(
            url,
            "CREATE TABLE ledger (id int PRIMARY KEY, note text)",
            "INSERT INTO ledger VALUES (1, 'committed before the crash')",
        )

        pg.kill()
        assert not pg.is_running()
        assert not accepts_connections(port)

        pg.restart()
        assert pg.port == port
        assert await run_sql(url, "SELECT note FROM ledger WHERE id = 1") == "committed before the crash"
        assert processes_in(data_dir), "a running server has processes in its data dir"

        pg.stop()
        assert not pg.is_running()
        assert processes_in(data_dir) == []
        assert not accepts_connections(port)
    finally:
        pg.cleanup()
    assert not data_dir.parent.exists()


def test_context_manager_stops_and_removes() -> None:
    with LocalPostgres() as pg:
        base_dir, data_dir = pg.base_dir, pg.data_dir
        assert pg.is_running()
    assert processes_in(data_dir) == []
    assert not base_dir.exists()
