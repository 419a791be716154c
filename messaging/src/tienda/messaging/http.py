"""Each worker's HTTP surface (FastAPI): liveness, readiness within a second, and the service's
endpoints behind bearer tokens that may be limited to some accounts.

Endpoints declare pydantic response models, so the OpenAPI document (``/openapi.json``) says
what each one returns. There is no documentation UI and no "try it" route. A refusal is a
problem document ``{"status", "title", "detail"}`` naming what to do."""

import asyncio
import hmac
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Path, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from starlette.types import ASGIApp

from tienda.contracts.types import ACCOUNT_ID

Check = Callable[[], Awaitable[object]]

AccountPath = Annotated[
    str, Path(pattern=ACCOUNT_ID.pattern, description="The customer account, as its messages' account_id.")
]
"""An account id in a path: one no message could carry is refused (422) rather than read as an
account without anything."""

READY_TIMEOUT = 0.8
EVERY_ACCOUNT = "*"


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
        return self.accounts_of_token(token.strip())

    def accounts_of_token(self, token: str) -> frozenset[str] | None:
        for known, accounts in self._tokens.items():
            if hmac.compare_digest(known.encode(), token.encode()):
                return accounts
        return None


class Problem(BaseModel):
    """Why a request was refused, and what to do."""

    status: int
    title: str
    detail: str


class Refused(Exception):
    """Answer the request with a problem document."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.problem = Problem(status=status, title=title, detail=detail)


def problem(status: int, title: str, detail: str) -> JSONResponse:
    return JSONResponse(Problem(status=status, title=title, detail=detail).model_dump(), status_code=status)


REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Missing or unknown bearer token."},
    403: {"model": Problem, "description": "The token may not read this account."},
    422: {"model": Problem, "description": "The request is not what the endpoint takes; the detail says why."},
}

_bearer = HTTPBearer(auto_error=False, description='A configured token (API_TOKENS); "*" tokens read every account.')
Credentials = Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]


def _accounts(tokens: TokenRing, credentials: HTTPAuthorizationCredentials | None) -> frozenset[str]:
    accounts = tokens.accounts_of_token(credentials.credentials) if credentials else None
    if accounts is None:
        raise Refused(401, "unauthorized", "send Authorization: Bearer <token> with a configured token")
    return accounts


def account_readers(tokens: TokenRing) -> APIRouter:
    """A router for ``/accounts/{account_id}/...``: each request needs a token that may read the account."""

    async def may_read(account_id: AccountPath, credentials: Credentials) -> None:
        accounts = _accounts(tokens, credentials)
        if EVERY_ACCOUNT not in accounts and account_id not in accounts:
            raise Refused(403, "forbidden", f"this token may not read account {account_id}")

    return APIRouter(dependencies=[Depends(may_read)], responses=REFUSALS)


def operators(tokens: TokenRing, why: str) -> APIRouter:
    """A router for what spans accounts (an executive's queue, renewals): a token for every account."""

    async def reads_everything(credentials: Credentials) -> None:
        if EVERY_ACCOUNT not in _accounts(tokens, credentials):
            raise Refused(403, "forbidden", f'{why}: it needs a token for every account (["*"])')

    return APIRouter(dependencies=[Depends(reads_everything)], responses=REFUSALS)


class Liveness(BaseModel):
    service: str
    status: str


class Readiness(BaseModel):
    service: str
    status: str
    checks: dict[str, str] = Field(description='Each dependency: "ok", or what is wrong with it.')
    reasons: list[str] | None = Field(
        default=None, description='Only when not ready: "<dependency>: <why>" for each one that is not.'
    )


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


def health_app(service: str, checks: Mapping[str, Check], routers: Sequence[APIRouter] = ()) -> FastAPI:
    """/health/live, /health/ready, /openapi.json and the service's routers."""
    app = FastAPI(
        title=f"Tienda {service} worker",
        version="0.1.0",
        description=f"Health, metrics and read endpoints of the {service} worker.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )

    @app.get("/health/live")
    async def live() -> Liveness:
        """The process answers."""
        return Liveness(service=service, status="live")

    @app.get(
        "/health/ready",
        response_model=Readiness,
        responses={503: {"model": Readiness, "description": "A dependency does not answer; its reason says why."}},
    )
    async def ready() -> JSONResponse:
        """Whether the database and Kafka answer, within a second; 503 names what does not, and why.

        The body's reasons say it in words, e.g. "kafka: authentication failed for user store (SCRAM-SHA-512)"."""
        results = await asyncio.gather(*(_run_check(check) for check in checks.values()))
        report = dict(zip(checks, results, strict=True))
        reasons = [f"{name}: {result}" for name, result in report.items() if result != "ok"]
        body = Readiness(
            service=service, status="not ready" if reasons else "ready", checks=report, reasons=reasons or None
        )
        return JSONResponse(body.model_dump(exclude_none=True), status_code=503 if reasons else 200)

    _answer_refusals(app)
    for router in (app.router, *routers):
        _summaries_from_docstrings(router)
    for router in routers:
        app.include_router(router)
    return app


def api_app(service: str, routers: Sequence[APIRouter], fallback: ASGIApp) -> FastAPI:
    """The service's routers alone, answering as ``health_app`` does; any other request goes to
    ``fallback`` (a read process forwards it to its worker). No document of its own: the worker's
    ``/openapi.json`` describes these routes too."""
    app = FastAPI(title=f"Tienda {service} reads", docs_url=None, redoc_url=None, openapi_url=None)
    _answer_refusals(app)
    for router in routers:
        _summaries_from_docstrings(router)
        app.include_router(router)
    app.router.default = fallback
    return app


def _answer_refusals(app: FastAPI) -> None:
    @app.exception_handler(Refused)
    async def refused(_: Request, error: Refused) -> JSONResponse:
        return JSONResponse(error.problem.model_dump(), status_code=error.problem.status)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        sent_as = request.headers.get("content-type", "none")
        if _about_body(error) and "json" not in sent_as.lower():
            # curl -d without -H 'Content-Type: application/json' sends a form: FastAPI never reads it as JSON
            detail = (
                f"body: send it as JSON with Content-Type: application/json (this request's Content-Type: {sent_as})"
            )
            return problem(422, "invalid request", detail)
        reasons = "; ".join(_invalid_part(detail) for detail in error.errors())
        return problem(422, "invalid request", reasons)


def _about_body(error: RequestValidationError) -> bool:
    return any(detail["loc"][:1] == ("body",) for detail in error.errors())


def _summaries_from_docstrings(router: APIRouter) -> None:
    """Each operation's summary is its endpoint's first docstring line, the rest its description."""
    for route in router.routes:
        if isinstance(route, APIRoute) and route.endpoint.__doc__:
            summary, _, description = route.endpoint.__doc__.strip().partition("\n")
            route.summary = summary.strip()
            route.description = " ".join(description.split())


def _invalid_part(detail: dict[str, Any]) -> str:
    """One problem of a request as `field: what is wrong`; a body that is not JSON says where."""
    if detail.get("type") == "json_invalid":
        error = detail.get("ctx", {}).get("error", "JSON decode error")
        return f"body: not valid JSON at character {detail['loc'][-1]} ({error}); send a JSON object"
    return f"{'.'.join(str(part) for part in detail['loc'][1:]) or 'body'}: {detail['msg']}"
