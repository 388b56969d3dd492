"""`cme-broker housing run`: the housing adapter's process (answers locate enquiries)."""

from typing import Annotated

import typer

from adapters.housing.app import build_housing
from adapters.housing.settings import HousingSettings
from broker.cli.context import console, container, refusals
from broker.responder import ResponderSettings
from broker.responder.app import serve

housing_app = typer.Typer(help="The housing adapter: answers locate enquiries from its records.")


@housing_app.command("run")
def run(
    as_agency: Annotated[
        str | None, typer.Option("--as", help="The housing agency (default CME_HOUSING_AGENCY_ID)")
    ] = None,
) -> None:
    """Consume the agency's queue until interrupted (SIGINT/SIGTERM). Enquiries without a
    unique match wait in `cme-broker enquiries list --as AGENCY`."""
    with refusals():
        settings = HousingSettings(agency_id=as_agency) if as_agency else HousingSettings()
        app = build_housing(container(), settings, ResponderSettings())
        console.print(f"{settings.agency_id}: answering locate enquiries (Ctrl-C stops)")
        serve(app)
