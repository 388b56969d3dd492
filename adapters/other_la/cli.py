"""`cme-broker peer ...`: join this LA hub to a neighbouring LA's hub."""

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from adapters.other_la.bridge import Bridge, HubEnd
from adapters.other_la.federation import adopt_peer_directory
from broker.cli.context import console, container, refusals
from broker.directory.export import import_directory
from broker.runtime import run_until_signalled
from broker.transport.topology import Topology

peer_app = typer.Typer(help="Federation with a neighbouring LA's hub (directory and bridge).")
PeerLa = Annotated[str, typer.Option("--peer-la", help="The peer LA's code, e.g. 331")]


def _own_la() -> str:
    """This hub's LA code, from its id (`hub:330` -> `330`)."""
    return container().settings.hub_id.split(":", 1)[1]


@peer_app.command("adopt")
def adopt(
    file: Annotated[Path, typer.Argument(help="The peer hub's signed directory export")],
    trust: Annotated[list[str], typer.Option(help="The peer hub key's kid (pinned)")],
    peer_la: PeerLa,
) -> None:
    """Verify the peer's export against its pinned hub key and mirror its agencies here."""
    app = container()
    pins = frozenset(trust)
    # The copy adopted last: an export not newer than it (a replay of one signed before a
    # revocation, say) is refused.
    held_copy = app.settings.data_dir / f"peer-{peer_la}.jws"
    with refusals():
        held = (
            import_directory(held_copy.read_text(), pins, now=None) if held_copy.exists() else None
        )
        imported = import_directory(
            file.read_text(), pins, now=app.clock(), newer_than=held.serial if held else None
        )
        adopted = adopt_peer_directory(app.directory_store, imported, peer_la, _own_la())
    held_copy.write_text(file.read_text())
    console.print(
        f"mirrored {len(adopted.mirrored)} agencies of LA {peer_la} "
        f"({len(adopted.changed)} changed); ignored {len(adopted.ignored)} not homed there"
    )


@peer_app.command("bridge")
def bridge(
    peer_url: Annotated[str, typer.Option(help="AMQP URL of the peer hub (its bridge user)")],
    peer_prefix: Annotated[str, typer.Option(help="The peer hub's topology prefix")],
    peer_la: PeerLa,
) -> None:
    """Carry messages both ways between this hub and the peer's until SIGINT/SIGTERM."""
    app = container()
    own_la = _own_la()
    agencies = app.snapshot().agencies()
    theirs = tuple(a.id for a in agencies if a.home_la == peer_la)
    ours = tuple(a.id for a in agencies if a.home_la == own_la)
    here = HubEnd(app.settings.rabbitmq_url.get_secret_value(), app.topology)
    there = HubEnd(peer_url, Topology(peer_prefix))

    async def main(stop: asyncio.Event) -> None:
        await asyncio.gather(
            Bridge(here, there, theirs).run(stop), Bridge(there, here, ours).run(stop)
        )

    console.print(f"bridging {len(theirs)} agencies of LA {peer_la} and {len(ours)} of ours")
    run_until_signalled(main)
