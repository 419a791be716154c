"""The read process's forwarding: what its own routes do not answer goes to the worker's loopback
port as it came, and the worker's answer comes back as it was; a worker that does not answer is a
503 problem naming the port. A real socket on 127.0.0.1 stands in for the worker."""

import asyncio
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import APIRouter

from tienda.messaging.reads import read_app
from tienda.messaging.worker import Runtime

Answer = Callable[[bytes, bytes], bytes]


def echo(head: bytes, body: bytes) -> bytes:
    """The request line, the body and whether the token came, as the answer's body."""
    token = b"token" if b"authorization: bearer t" in head.lower() else b""
    content = head.split(b"\r\n", 1)[0] + b"|" + body + b"|" + token
    return b"HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s" % (len(content), content)


def chunked(_head: bytes, _body: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"


async def serve(answer: Answer) -> tuple[asyncio.Server, int]:
    async def one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")), 0
        )
        writer.write(answer(head, await reader.readexactly(length)))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(one, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


@pytest.fixture
async def worker() -> AsyncIterator[Callable[[Answer], object]]:
    servers: list[asyncio.Server] = []

    async def start(answer: Answer) -> int:
        server, port = await serve(answer)
        servers.append(server)
        return port

    yield start
    for server in servers:
        server.close()


def client(port: int, routers: list[APIRouter] | None = None) -> httpx.AsyncClient:
    app = read_app("store", routers or [], port)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://store")


async def test_a_request_the_read_routes_do_not_answer_reaches_the_worker_as_it_came(worker):
    port = await worker(echo)
    async with client(port) as http:
        response = await http.post("/metrics?window=5", content=b"payload", headers={"Authorization": "Bearer t"})
    assert response.status_code == 201
    assert response.text == "POST /metrics?window=5 HTTP/1.1|payload|token"
    assert response.headers["content-type"] == "text/plain"


async def test_the_read_routes_answer_without_the_worker(worker):
    port = await worker(echo)
    router = APIRouter()

    @router.get("/accounts/{account_id}/plan")
    async def plan(account_id: str) -> dict[str, str]:
        """The plan."""
        return {"account_id": account_id}

    async with client(port, [router]) as http:
        assert (await http.get("/accounts/acc-1/plan")).json() == {"account_id": "acc-1"}
        assert (await http.get("/health/ready")).text.startswith("GET /health/ready")


async def test_a_chunked_answer_of_the_worker_is_passed_on_whole(worker):
    port = await worker(chunked)
    async with client(port) as http:
        response = await http.get("/asyncapi.json")
    assert response.text == "hello world"
    assert response.headers["content-length"] == "11"


async def test_a_worker_that_does_not_answer_is_a_503_problem_naming_its_port(worker):
    server, port = await serve(echo)
    server.close()
    await server.wait_closed()
    async with client(port) as http:
        response = await http.get("/health/ready")
    assert response.status_code == 503
    problem = response.json()
    assert problem["title"] == "worker unavailable"
    assert f"127.0.0.1:{port}" in problem["detail"]


def test_the_worker_runtime_offers_what_read_routes_use():
    assert {"read_only", "readers"} <= set(Runtime.__dataclass_fields__)
