"""Composition of the children's social care adapter: the front door for escalations, its
records behind the answer rules, the shared responder and its agency client."""

from dataclasses import dataclass

from adapters.social_care.front_door import FrontDoor
from adapters.social_care.ports import SocialCareRecords
from adapters.social_care.settings import SocialCareSettings
from adapters.social_care.source import SocialCareSource
from broker.app import Container
from broker.responder import ResponderSettings
from broker.responder.app import ResponderApp, build_responder, open_work_list
from schemas.messages.safeguarding import ESCALATION


@dataclass(frozen=True)
class SocialCareApp:
    """The responder (enquiries, the client) and the front door."""

    app: ResponderApp
    front_door: FrontDoor


def build_social_care(
    container: Container,
    settings: SocialCareSettings,
    responder_settings: ResponderSettings,
    records: SocialCareRecords | None = None,
) -> SocialCareApp:
    """Social care of `settings.agency_id`; `records` overrides the configured source."""
    records = records if records is not None else settings.records()
    source = SocialCareSource(records) if records is not None else None
    work = open_work_list(container, responder_settings)
    front_door = FrontDoor(settings.agency_id, work, settings.escalation_days)
    app = build_responder(
        container, settings.agency_id, work, source, others={ESCALATION: front_door.receive}
    )
    return SocialCareApp(app, front_door)
