"""Composition of the health adapter: its patient index behind the health rules and a circuit
breaker, the shared responder (work list, answers) and its agency client."""

from adapters.health.ports import PatientIndex
from adapters.health.settings import HealthSettings
from adapters.health.source import HealthSource
from broker.app import Container
from broker.responder import CircuitBreaker, LocateSource, ResponderSettings
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
    source: LocateSource | None = None
    if index is not None:
        health = HealthSource(index, settings.lookup_budget_s)
        source = CircuitBreaker(health, settings.fhir_cooldown_s)
    work = open_work_list(container, responder_settings)
    return build_responder(container, settings.agency_id, work, source)
