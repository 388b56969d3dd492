"""Composition of a responding agency: its work list, answer sender and agency client, on the
endpoint's database (`CME_DATABASE_URL`) and keys (`CME_KEYSTORE_DIR`). The health, housing
and social care adapters call these with their own source; the CLI calls them without one."""

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

from sqlmodel import Session

from broker.app import Container
from broker.client.agency import AgencyClient
from broker.envelope import Opened
from broker.responder.answer import ResponseSender
from broker.responder.responder import InboundHandler, Responder
from broker.responder.settings import ResponderSettings
from broker.responder.source import LocateSource
from broker.responder.worklist import WorkList
from broker.runtime import run_until_signalled


@dataclass(frozen=True)
class ResponderApp:
    """A responder and the agency client it receives and answers through."""

    responder: Responder
    client: AgencyClient


def open_work_list(container: Container, settings: ResponderSettings) -> WorkList:
    """The work list on the container's (migrated) database."""
    return WorkList(container.engine, settings.cipher(), container.clock)


def build_responder(
    container: Container,
    agency_id: str,
    work: WorkList,
    source: LocateSource | None = None,
    others: Mapping[str, InboundHandler] | None = None,
) -> ResponderApp:
    """The responder of `agency_id` (whose keys are in the container's keystore)."""
    responder: Responder | None = None

    def handle(session: Session, opened: Opened) -> None:
        assert responder is not None  # set below, before the client starts
        responder.handle(session, opened)

    client = container.agency_client(agency_id, handle)
    sender = ResponseSender(agency_id, client, container.agreements, container.clock)
    responder = Responder(agency_id, work, sender, source, others)
    return ResponderApp(responder, client)


async def run_responder(app: ResponderApp, stop: asyncio.Event) -> None:
    """Consume the agency's queue and publish its answers (also those a person gives from the
    work list meanwhile) until `stop` is set; then finish what is in flight and disconnect."""
    await app.client.start()
    try:
        await stop.wait()
    finally:
        await app.client.stop()


def serve(app: ResponderApp) -> None:
    """Run the responder until SIGINT or SIGTERM (the adapters' `run` commands)."""

    run_until_signalled(lambda stop: run_responder(app, stop))
