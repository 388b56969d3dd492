"""Liveness, readiness and Prometheus metrics: served by every `cme-broker serve` process
(gateway or router replica), unauthenticated, with nothing about any agency in them."""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from sqlalchemy import Engine, text

from broker.gateway.models import Health

PROBE_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class Probes:
    """How to ask each dependency whether it answers, and which must for readiness.

    The gateway needs only its database to be useful (with RabbitMQ down it still accepts
    envelopes into its outbox and lists mailboxes), so by default RabbitMQ is reported, not
    required: an orchestrator keeps sending agencies to it during an outage. A router
    replica requires both."""

    database: Callable[[], bool]
    rabbitmq: Callable[[], Awaitable[bool]]
    required: frozenset[str] = frozenset({"database"})


def database_probe(engine: Engine) -> Callable[[], bool]:
    """`SELECT 1` on the hub's database."""

    def probe() -> bool:
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:  # any failure means "not ready"; the reason is in the database log
            return False
        return True

    return probe


async def _bounded(check: Awaitable[bool]) -> bool:
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_S):
            return await check
    except TimeoutError:
        return False


def health_router(probes: Probes) -> APIRouter:
    """`/healthz`, `/readyz` and `/metrics`."""
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="Liveness: the process is running")
    async def healthz() -> Health:
        return Health(status="ok")

    @router.get(
        "/readyz",
        summary="Readiness: the dependencies this process needs answer",
        responses={503: {"model": Health, "description": "a required dependency is down"}},
    )
    async def readyz() -> JSONResponse:
        database, rabbitmq = await asyncio.gather(
            _bounded(asyncio.to_thread(probes.database)), _bounded(probes.rabbitmq())
        )
        checks = {"database": database, "rabbitmq": rabbitmq}
        ready = all(checks[name] for name in probes.required)
        body = Health(status="ok" if ready else "unavailable", checks=checks)
        return JSONResponse(body.model_dump(), status_code=200 if ready else 503)

    @router.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return router
