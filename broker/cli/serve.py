"""`cme-broker serve`: the hub's long-running process (a router replica and the HTTPS gateway,
or either alone), with health, readiness and metrics on one port."""

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Annotated

import structlog
import typer
import uvicorn
from aiormq.exceptions import AMQPError

from broker.app import Container
from broker.cli.context import container, err_console, refusals
from broker.runtime import run_until_signalled

log = structlog.get_logger(__name__)
GRACE_S = 30


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: `serve` stops the router and the gateway
    together, each finishing what it has in hand."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="HTTP port (API, /healthz, /readyz, /metrics)")] = 8080,
    router: Annotated[bool, typer.Option(help="Run a router replica")] = True,
    gateway: Annotated[bool, typer.Option(help="Serve the agencies' HTTPS API")] = True,
) -> None:
    """Run the hub until SIGINT or SIGTERM, then finish in-flight messages and requests.

    TLS is terminated in front of this process (a proxy or ingress); it listens on plain
    HTTP on `host`, which is 127.0.0.1 unless told otherwise.
    """
    if not (router or gateway):
        raise typer.BadParameter("nothing to run: drop --no-router or --no-gateway")
    app = container()
    with refusals():
        run_until_signalled(
            lambda stop: _serve(app, stop, host, port, router=router, gateway=gateway)
        )


async def _serve(
    app: Container, stop: asyncio.Event, host: str, port: int, *, router: bool, gateway: bool
) -> None:
    http_app = app.gateway_app() if gateway else app.health_app()
    config = uvicorn.Config(
        http_app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=GRACE_S,  # a slow client cannot hold the shutdown
    )
    server = _Server(config)
    # HTTP first: health, readiness and the gateway's outbox answer while RabbitMQ is away.
    tasks = [asyncio.create_task(server.serve(), name="http")]
    if router:
        tasks.append(asyncio.create_task(_route(app, stop), name="router"))
        tasks.append(asyncio.create_task(app.hub_sampler().run(stop), name="sampler"))
    err_console.print(
        f"serving on http://{host}:{port} ("
        + " + ".join(n for n, on in (("router", router), ("gateway", gateway)) if on)
        + "); Ctrl-C to stop"
    )
    await _until_stopped_or_failed(stop, tasks)
    server.should_exit = True
    results = await asyncio.gather(*tasks, return_exceptions=True)
    for task, result in zip(tasks, results, strict=True):
        if isinstance(result, BaseException):
            log.error("serve.part_failed", part=task.get_name(), error=type(result).__name__)
    if any(isinstance(r, BaseException) for r in results):
        raise typer.Exit(1)


async def _route(app: Container, stop: asyncio.Event) -> None:
    """A router replica; while RabbitMQ cannot be reached at start, try again with back-off
    (once connected, the robust connection recovers by itself)."""
    delay = 1.0
    while not stop.is_set():
        try:
            await app.declare_topology()
            await app.router_service().run(stop)
            return
        except (OSError, TimeoutError, AMQPError) as exc:
            log.warning("serve.router_waiting_for_rabbitmq", error=type(exc).__name__)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await stop.wait()
        delay = min(delay * 2, 30.0)


async def _until_stopped_or_failed(stop: asyncio.Event, tasks: list[asyncio.Task[None]]) -> None:
    """Wait for a signal, or for any part to end on its own (a failure: stop the rest)."""
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait([stopping, *tasks], return_when=asyncio.FIRST_COMPLETED)
    stop.set()
    stopping.cancel()
