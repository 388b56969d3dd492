"""Health through the real RabbitMQ and router: the LA's locate enquiry reaches the health
adapter, a unique FHIR match is answered at once, an enquiry with no match waits for a person
whose answer then travels back, and every enquiry is receipted."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlmodel import Session, select

from adapters.health.app import build_health
from adapters.health.fhir import FhirConfig, FhirPatientIndex
from adapters.health.fhir_stub import FhirStub, synthetic_patient
from adapters.health.settings import HealthSettings
from broker.agreements import ShareIntent, justify
from broker.client.tables import OutboxRow
from broker.envelope import Draft, Sealed
from broker.responder import LocateAnswer, Responder, ResponderSettings
from broker.responder.cipher import new_key
from broker.responder.model import NO_MATCH
from schemas.messages.cme import LOCATE_ENQUIRY, LocateEnquiryV1, LocateOutcome, LocateResponseV1
from tests.integration.hub_harness import AREA, HEALTH, LA, Hub, eventually
from tests.unit.responders_builders import CHILD_DOB, SURNAME, TODAY, enquiry

pytestmark = pytest.mark.rabbitmq


@pytest.fixture
def stub() -> Iterator[FhirStub]:
    home = {"use": "home", "line": ["12 Example Road"], "city": "Exampleton",
            "postalCode": "ZZ99 1AB"}  # fmt: skip
    patient = synthetic_patient(
        "p1", family=SURNAME, given="Isla", birth_date=CHILD_DOB, gp_ods="M85001", address=home
    )
    with FhirStub([patient]) as server:
        yield server


@pytest.fixture
async def hub(
    tmp_path: Path, rabbitmq_url: str, db_url: str, stub: FhirStub
) -> AsyncIterator[tuple[Hub, Responder]]:
    hub = Hub(tmp_path, rabbitmq_url, db_url)
    hub.add_agencies(AREA)
    index = FhirPatientIndex(FhirConfig(stub.base_url, timeout_s=5))
    settings = ResponderSettings(work_key=SecretStr(new_key()))
    health = build_health(hub.container, HealthSettings(), settings, index)
    await hub.start(clients=[LA])
    await health.client.start()
    hub.clients[HEALTH] = health.client  # stopped with the hub
    try:
        yield hub, health.responder
    finally:
        await hub.stop()


def ask(hub: Hub, question: LocateEnquiryV1) -> Sealed:
    intent = ShareIntent(LA, HEALTH, LOCATE_ENQUIRY, question, "cme-officer", "Needed for CME.")
    reason = justify(hub.container.agreements, intent, hub.container.clock())
    return hub.clients[LA].send(Draft(HEALTH, LOCATE_ENQUIRY, question, reason))


def answer_to(hub: Hub, sent: Sealed) -> LocateResponseV1 | None:
    for opened in hub.handled_by[LA]:
        payload = opened.payload
        if isinstance(payload, LocateResponseV1) and payload.enquiry_message_id == sent.claims.jti:
            return payload
    return None


def receipted(hub: Hub, sent: Sealed) -> bool:
    with Session(hub.container.engine) as session:
        query = select(OutboxRow).where(OutboxRow.message_id == str(sent.claims.jti))
        return session.exec(query).one().receipt_outcome == "accepted"


async def test_health_answers_through_the_hub_and_a_person_answers_the_rest(
    hub: tuple[Hub, Responder],
) -> None:
    harness, health = hub
    matched = ask(harness, enquiry(case_ref="CME-330-MATCH"))
    unknown = ask(harness, enquiry(case_ref="CME-330-NOBODY", surname="Unheardof"))

    await eventually(lambda: answer_to(harness, matched) is not None)
    found = answer_to(harness, matched)
    assert found is not None
    assert (found.outcome, found.registered_gp) == (LocateOutcome.FOUND, "M85001")

    await eventually(lambda: len(health.work.items(HEALTH)) == 1)
    (item,) = health.work.items(HEALTH)
    assert (item.case_ref, item.reason) == ("CME-330-NOBODY", NO_MATCH)
    health.answer(item.item_id, LocateAnswer(LocateOutcome.NOT_FOUND, TODAY), "user:tester")
    await eventually(lambda: answer_to(harness, unknown) is not None)
    not_found = answer_to(harness, unknown)
    assert not_found is not None
    assert not_found.outcome is LocateOutcome.NOT_FOUND

    await eventually(lambda: receipted(harness, matched) and receipted(harness, unknown))
    responses = [o for o in harness.handled_by[LA] if isinstance(o.payload, LocateResponseV1)]
    assert len(responses) == 2  # one answer per enquiry
