"""Each worker's HTTP surface: liveness, readiness within a second, and read endpoints
behind bearer tokens that may be limited to some accounts."""

import asyncio
import hmac
from collections.abc import Awaitable, Callable, Mapping, Sequence

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

Check = Callable[[], Awaitable[object]]

READY_TIMEOUT = 0.8


class NotReady(Exception):
    """A dependency is not ready; the message says why in the words readiness shows."""


class TokenRing:
    """Bearer tokens and the accounts each may read ("*": all)."""

    def __init__(self, tokens: Mapping[str, Sequence[str]]) -> None:
        self._tokens = {token: frozenset(accounts) for token, accounts in tokens.items()}

    def accounts_of(self, header: str | None) -> frozenset[str] | None:
        """The accounts a request may read, or None when its token is missing or unknown."""
        scheme, _, token = (header or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        for known, accounts in self._tokens.items():
            if hmac.compare_digest(known.encode(), token.strip().encode()):
                return accounts
        return None


def problem(status: int, title: str, detail: str) -> JSONResponse:
    return JSONResponse({"status": status, "title": title, "detail": detail}, status_code=status)


def authorize(request: Request, tokens: TokenRing, account_id: str) -> Response | None:
    """None when the request may read ``account_id``; else the 401 or 403 to answer."""
    accounts = tokens.accounts_of(request.headers.get("authorization"))
    if accounts is None:
        return problem(401, "unauthorized", "send Authorization: Bearer <token> with a configured token")
    if "*" not in accounts and account_id not in accounts:
        return problem(403, "forbidden", f"this token may not read account {account_id}")
    return None


AccountView = Callable[[Request, str], Awaitable[Response]]


def account_route(path: str, view: AccountView, tokens: TokenRing) -> Route:
    """A GET route under /accounts/{account_id}/... guarded by the token ring."""

    async def endpoint(request: Request) -> Response:
        account_id = request.path_params["account_id"]
        refusal = authorize(request, tokens, account_id)
        return refusal or await view(request, account_id)

    endpoint.__doc__ = view.__doc__
    return Route(path, endpoint, methods=["GET"])


async def _run_check(check: Check) -> str:
    try:
        await asyncio.wait_for(check(), READY_TIMEOUT)
        return "ok"
    except TimeoutError:
        return f"no answer within {READY_TIMEOUT}s"
    except NotReady as error:
        return str(error)
    except Exception as error:  # noqa: BLE001 - readiness reports any failure
        return f"{type(error).__name__}: {error}"[:300]


def health_app(service: str, checks: Mapping[str, Check], routes: Sequence[BaseRoute] = ()) -> Starlette:
    """/health/live, /health/ready and the service's read routes."""

    async def live(_: Request) -> Response:
        """The process answers."""
        return JSONResponse({"service": service, "status": "live"})

    async def ready(_: Request) -> Response:
        """Whether the database and Kafka answer, within a second; 503 names what does not, and why.

        The body's reasons say it in words, e.g. "kafka: authentication failed for user store (SCRAM-SHA-512)"."""
        results = await asyncio.gather(*(_run_check(check) for check in checks.values()))
        report = dict(zip(checks, results, strict=True))
        reasons = [f"{name}: {result}" for name, result in report.items() if result != "ok"]
        body: dict[str, object] = {"service": service, "status": "not ready" if reasons else "ready", "checks": report}
        if reasons:
            body["reasons"] = reasons
        return JSONResponse(body, status_code=503 if reasons else 200)

    return Starlette(routes=[Route("/health/live", live), Route("/health/ready", ready), *routes])
