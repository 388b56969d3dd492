"""The gateway's FastAPI application: the `/v1` API, health and metrics, one error body for
every failure, a body size limit, request ids, and the outbox pump's lifetime.

Errors become HTTP responses only here. Nothing the caller sent, no stack trace, SQL, key
id or file path reaches a response or a log line.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from uuid import uuid4

import structlog
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from broker.gateway.api import Gatekeeper
from broker.gateway.api import router as api_router
from broker.gateway.errors import GatewayError
from broker.gateway.health import Probes, health_router
from broker.gateway.models import ErrorBody, ErrorDetail
from broker.gateway.observe import REFUSED, REQUESTS
from broker.gateway.service import GatewayService

log = structlog.get_logger(__name__)
DESCRIPTION = """\
The CME hub's HTTPS gateway, for agencies that do not run an AMQP client. It carries the
same end-to-end encrypted envelopes as AMQP and holds no key that decrypts them.

**Authentication**: every `/v1` call carries `Authorization: Bearer <client assertion>`, a
short-lived JWS signed with the agency's registered signing key (see the security scheme),
or comes through the hub's TLS proxy with a client certificate for that key.
**Limits**: a per-agency request rate (429 with `Retry-After`) and a body size limit (413).
**Errors**: always `{"error": {"code", "message", "request_id"}}`.
"""
RETRY_AFTER_S = 5
HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 406: "not_acceptable"}


def _request_id(scope: Scope) -> str:
    state = scope.setdefault("state", {})
    return str(state.setdefault("request_id", uuid4().hex))


def error_response(
    request_id: str, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """The one error body."""
    body = ErrorBody(error=ErrorDetail(code=code, message=message, request_id=request_id))
    # Set here too: a 413 or a 500 is answered outside the middleware that adds it.
    headers = {**(headers or {}), "X-Request-ID": request_id}
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


class BodyLimit:
    """Refuses a request body over `max_bytes` with 413, by Content-Length at once, or while
    it streams in: the body is read here (envelopes are small) and handed on only when it
    fits, so the framework never sees, nor mislabels, an oversized one."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self._app = app
        self._max = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if declared.isdigit() and int(declared) > self._max:
            await self._refuse(scope, receive, send)
            return
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > self._max:
                await self._refuse(scope, receive, send)
                return
        await self._app(scope, _replay(b"".join(chunks), receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        REFUSED.labels(reason="too_large").inc()
        response = error_response(
            _request_id(scope), 413, "too_large", "the request body is over the size limit"
        )
        await response(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the buffered body once, then waits on the real one (for the
    disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


async def _gateway_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GatewayError)
    headers = {}
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Bearer error="invalid_client"'
        REFUSED.labels(reason=exc.reason).inc()
    retry_after = getattr(exc, "retry_after_s", None)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return error_response(_request_id(request.scope), exc.status, exc.reason, str(exc), headers)


async def _invalid_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    # Only where the problem is (parameter names are ours), never the offending value, and
    # for the body no deeper than `body`: a field name there is the caller's text.
    places = sorted({".".join(str(p) for p in e["loc"][:2]) for e in exc.errors()})
    places = ["body" if p.startswith("body") else p for p in places]
    message = "the request does not match the API: " + ", ".join(sorted(set(places)))
    return error_response(_request_id(request.scope), 422, "invalid_request", message)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = HTTP_CODES.get(exc.status_code, "http_error")
    return error_response(
        _request_id(request.scope), exc.status_code, code, code.replace("_", " "), exc.headers
    )


async def _database_down(request: Request, exc: Exception) -> Response:
    log.warning("gateway.database_unavailable", error=type(exc).__name__)
    return error_response(
        _request_id(request.scope),
        503,
        "hub_unavailable",
        "the hub's database did not answer: retry later",
        {"Retry-After": str(RETRY_AFTER_S)},
    )


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.error("gateway.unexpected_error", error=type(exc).__name__)  # type only: no content
    return error_response(_request_id(request.scope), 500, "internal_error", "internal error")


async def _observe(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    request_id = _request_id(request.scope)
    try:
        response = await call_next(request)
    except Exception as exc:  # answered here, so nothing re-raises it to a server log
        response = await _unexpected(request, exc)
    route = request.scope.get("route")
    template = getattr(route, "path", "unmatched")
    REQUESTS.labels(route=template, status=str(response.status_code)).inc()
    response.headers["X-Request-ID"] = request_id
    log.info(
        "gateway.request",
        request_id=request_id,
        route=template,
        status=response.status_code,
        agency=getattr(request.state, "agency", None),
    )
    return response


HEALTH_DESCRIPTION = "A CME hub router replica: health, readiness and Prometheus metrics."


def _base_app(
    title: str,
    description: str,
    lifespan: Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]] | None,
) -> FastAPI:
    app = FastAPI(title=title, version="1", description=description, lifespan=lifespan)
    app.add_exception_handler(GatewayError, _gateway_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(DBAPIError, _database_down)
    app.add_exception_handler(PoolTimeout, _database_down)
    app.add_exception_handler(Exception, _unexpected)
    app.middleware("http")(_observe)
    return app


def create_gateway_app(
    service: GatewayService, gatekeeper: Gatekeeper, probes: Probes, max_body_bytes: int
) -> FastAPI:
    """The gateway: the agencies' API, health and metrics; runs the outbox pump."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        pump = asyncio.create_task(service.pump(stop), name="gateway-outbox")
        try:
            yield
        finally:
            stop.set()
            await pump
            await service.close()

    app = _base_app("CME hub gateway", DESCRIPTION, lifespan)
    app.state.gateway = service
    app.state.gatekeeper = gatekeeper
    app.include_router(api_router)
    app.include_router(health_router(probes))
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    return app


def create_health_app(probes: Probes) -> FastAPI:
    """Health and metrics only (a router replica without the gateway)."""
    app = _base_app("CME hub router", HEALTH_DESCRIPTION, None)
    app.include_router(health_router(probes))
    return app
