"""`cme-broker health run`: the health adapter's process (answers locate enquiries)."""

from typing import Annotated

import typer

from adapters.health.app import build_health
from adapters.health.settings import HealthSettings
from broker.cli.context import console, container, refusals
from broker.responder import ResponderSettings
from broker.responder.app import serve

health_app = typer.Typer(help="The health adapter: answers locate enquiries (FHIR or a table).")


@health_app.command("run")
def run(
    as_agency: Annotated[
        str | None, typer.Option("--as", help="The health agency (default CME_HEALTH_AGENCY_ID)")
    ] = None,
) -> None:
    """Consume the agency's queue until interrupted (SIGINT/SIGTERM). Enquiries without a
    unique match wait in `cme-broker enquiries list --as AGENCY`."""
    with refusals():
        settings = HealthSettings(agency_id=as_agency) if as_agency else HealthSettings()
        app = build_health(container(), settings, ResponderSettings())
        console.print(f"{settings.agency_id}: answering locate enquiries (Ctrl-C stops)")
        serve(app)
