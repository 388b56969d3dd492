"""Entry point of `cme-broker`."""

from pathlib import Path
from typing import Annotated

import typer

from broker.cli.agency import agency_app, directory_app
from broker.cli.agreements import agreements_app
from broker.cli.context import set_data_dir
from broker.cli.deadletters import deadletters_app
from broker.cli.demo import demo
from broker.cli.hub import router_app, topology_app
from broker.cli.ledger import ledger_app, track
from broker.cli.message import message_app
from broker.cli.schemas_cmd import schemas_app
from broker.cli.serve import serve
from broker.logconfig import configure_logging

app = typer.Typer(
    help="CME broker: secure messages about children missing education.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals can hold personal data or keys
)
app.add_typer(agency_app, name="agency")
app.add_typer(directory_app, name="directory")
app.add_typer(message_app, name="message")
app.add_typer(schemas_app, name="schemas")
app.add_typer(agreements_app, name="agreements")
app.add_typer(ledger_app, name="ledger")
app.add_typer(router_app, name="router")
app.add_typer(topology_app, name="topology")
app.add_typer(deadletters_app, name="deadletters")
app.command("hub-demo")(demo)
app.command("track")(track)
app.command("serve")(serve)


@app.callback()
def main(
    data_dir: Annotated[
        Path | None, typer.Option(help="Data directory (overrides CME_DATA_DIR)")
    ] = None,
) -> None:
    """Secure inter-agency messages for children missing education (CME)."""
    configure_logging()
    set_data_dir(data_dir)
