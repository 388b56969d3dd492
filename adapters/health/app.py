"""Composition of the health adapter: its patient index behind the health rules, the shared
responder (work list, answers) and its agency client."""

from adapters.health.ports import PatientIndex
from adapters.health.settings import HealthSettings
from adapters.health.source import HealthSource
from broker.app import Container
from broker.responder import ResponderSettings
from broker.responder.app import ResponderApp, build_responder, open_work_list


def build_health(
    container: Container,
    settings: HealthSettings,
    responder_settings: ResponderSettings,
    index: PatientIndex | None = None,
) -> ResponderApp:
    """The health responder of `settings.agency_id` on the container's database, keys and hub;
    `index` overrides the configured source (tests, the demo)."""
    index = index if index is not None else settings.index()
    source = HealthSource(index) if index is not None else None
    work = open_work_list(container, responder_settings)
    return build_responder(container, settings.agency_id, work, source)
