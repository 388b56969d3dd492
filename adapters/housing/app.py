"""Composition of the housing adapter: its records behind the housing rules, the shared
responder (work list, answers) and its agency client."""

from adapters.housing.ports import HousingRecords
from adapters.housing.settings import HousingSettings
from adapters.housing.source import HousingSource
from broker.app import Container
from broker.responder import ResponderSettings
from broker.responder.app import ResponderApp, build_responder, open_work_list


def build_housing(
    container: Container,
    settings: HousingSettings,
    responder_settings: ResponderSettings,
    records: HousingRecords | None = None,
) -> ResponderApp:
    """The housing responder of `settings.agency_id`; `records` overrides the configured
    source (tests, the demo)."""
    records = records if records is not None else settings.records()
    source = HousingSource(records) if records is not None else None
    work = open_work_list(container, responder_settings)
    return build_responder(container, settings.agency_id, work, source)
