"""`cme-broker router ...` and `cme-broker topology ...`: run and set up the hub."""

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer

from broker.app import Container
from broker.cli.context import console, container, err_console, refusals
from broker.router.service import RouterService
from broker.runtime import run_until_signalled
from broker.transport.definitions import definitions

router_app = typer.Typer(help="The hub's router.", no_args_is_help=True)
topology_app = typer.Typer(help="The hub's RabbitMQ topology.", no_args_is_help=True)


@router_app.command("run")
def run(
    actor: Annotated[str | None, typer.Option(help="Name of this replica in the ledger")] = None,
) -> None:
    """Run one router replica until SIGINT or SIGTERM (then finish in-flight messages)."""
    app = container()
    with refusals():
        service = app.router_service(actor)
        run_until_signalled(lambda stop: _serve(app, service, stop))


async def _serve(app: Container, service: RouterService, stop: asyncio.Event) -> None:
    await app.declare_topology()
    err_console.print("router running; Ctrl-C to stop")
    await service.run(stop)


@topology_app.command("declare")
def declare() -> None:
    """Declare exchanges and queues for every agency in the directory (idempotent)."""
    app = container()
    with refusals():
        asyncio.run(app.declare_topology())
    console.print(f"declared topology '{app.settings.topology_prefix}'")


@topology_app.command("export")
def export(
    out: Annotated[Path | None, typer.Option(help="File to write (default: stdout)")] = None,
    vhost: Annotated[str, typer.Option(help="RabbitMQ virtual host")] = "/",
) -> None:
    """Write RabbitMQ definitions: exchanges, queues, bindings, per-agency users and
    permissions (import with `rabbitmqctl import_definitions FILE`)."""
    app = container()
    agencies = [a.id for a in app.snapshot().agencies()]
    text = json.dumps(definitions(app.topology, agencies, vhost), indent=2) + "\n"
    if out:
        out.write_text(text)
        console.print(f"wrote {out} ({len(agencies)} agencies)")
    else:
        typer.echo(text, nl=False)
