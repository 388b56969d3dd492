"""`cme-broker social-care ...`: the front door's list, taking an item on, and the process."""

from typing import Annotated

import typer

from adapters.social_care.app import SocialCareApp, build_social_care
from adapters.social_care.settings import SocialCareSettings
from broker.cli.context import console, container, refusals
from broker.responder import ResponderSettings
from broker.responder.app import serve
from broker.responder.cli import default_actor, print_items

social_care_app = typer.Typer(
    help="Children's social care: the front door for escalations, and locate enquiries."
)
As = Annotated[
    str | None, typer.Option("--as", help="The social care agency, e.g. social_care:330")
]


def _app(as_agency: str | None) -> SocialCareApp:
    settings = SocialCareSettings(agency_id=as_agency) if as_agency else SocialCareSettings()
    return build_social_care(container(), settings, ResponderSettings())


@social_care_app.command("front-door")
def front_door(
    as_agency: As = None,
    closed: Annotated[bool, typer.Option("--all", help="Include items taken on")] = False,
) -> None:
    """Escalations and alerts waiting for the front door, same-day first (no personal data;
    `cme-broker enquiries show ID --as AGENCY` shows the child)."""
    with refusals():
        items = _app(as_agency).front_door.waiting(include_closed=closed)
    print_items(items, "at the front door")


@social_care_app.command("take-on")
def take_on(
    item_id: Annotated[str, typer.Argument(help="The item's id (from `front-door`)")],
    as_agency: As = None,
    by: Annotated[str, typer.Option("--by", help="Who takes it on (e.g. user:jsmith)")] = "",
) -> None:
    """Take an escalation or alert on (it leaves the front door's list)."""
    with refusals():
        _app(as_agency).app.responder.acknowledge(item_id, by or default_actor())
    console.print(f"{item_id}: taken on")


@social_care_app.command("run")
def run(as_agency: As = None) -> None:
    """Consume the agency's queue until interrupted (SIGINT/SIGTERM)."""
    with refusals():
        social_care = _app(as_agency)
        console.print(f"{social_care.front_door.agency_id}: front door open (Ctrl-C stops)")
        serve(social_care.app)
