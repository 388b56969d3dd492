"""Health answering from a FHIR R4 Patient search over real HTTP (the in-process FHIR stub):
the request as PDS takes it, the unique-match rule, restricted records, minimum disclosure, an
endpoint that is down, and one enquiry delivered twice."""

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from adapters.health.app import build_health
from adapters.health.fhir import FhirConfig, FhirPatientIndex
from adapters.health.fhir_stub import FhirStub, synthetic_patient
from adapters.health.rules import RESTRICTED_NOTE, RESTRICTED_RECORD
from adapters.health.settings import HealthSettings
from broker.responder import Responder, WorkKind, WorkState
from broker.responder.model import NO_MATCH, SEVERAL_MATCHES, SYSTEM_ACTOR
from schemas.messages.cme import LocateOutcome, LocateQuestion, LocateResponseV1
from tests.integration.responders.world import HEALTH, LA, ResponderWorld
from tests.unit.responders_builders import (
    CHILD_DOB,
    FORMER_SURNAME,
    NHS_NUMBER,
    SURNAME,
    address,
    enquiry,
    nhs_number,
)

HOME = {"use": "home", "line": ["12 Example Road"], "city": "Exampleton", "postalCode": "ZZ99 1AB"}


def patient(patient_id: str = "p1", **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "family": SURNAME,
        "given": "Isla Maya",
        "birth_date": CHILD_DOB,
        "nhs_number": NHS_NUMBER,
        "gp_ods": "M85001",
        "address": HOME,
    }
    fields.update(overrides)
    return synthetic_patient(patient_id, **fields)


@pytest.fixture
def stub() -> Iterator[FhirStub]:
    with FhirStub() as server:
        yield server


@pytest.fixture
def health(world: ResponderWorld, stub: FhirStub) -> Responder:
    index = FhirPatientIndex(FhirConfig(stub.base_url, timeout_s=5))
    return build_health(
        world.container, HealthSettings(), world.responder_settings, index
    ).responder


def only_reply(world: ResponderWorld) -> LocateResponseV1:
    (reply,) = world.replies(HEALTH)
    assert reply.recipient == LA
    assert isinstance(reply.payload, LocateResponseV1)
    return reply.payload


def test_one_match_is_answered_at_once_with_gp_and_address(
    world: ResponderWorld, stub: FhirStub, health: Responder
) -> None:
    stub.patients = [patient(), patient("p2", family="Otherfamily")]
    opened = world.enquire(health, enquiry(nhs_number=NHS_NUMBER))
    answer = only_reply(world)
    assert answer.outcome is LocateOutcome.FOUND
    assert answer.registered_gp == "M85001"
    assert answer.current_address == address()
    assert answer.evidence_date == date(2026, 10, 1)  # Patient.meta.lastUpdated
    assert answer.enquiry_message_id == opened.claims.jti
    (search,) = stub.searches
    assert search == {
        "family": [SURNAME],
        "given": ["Isla"],
        "birthdate": ["eq2015-05-01"],
        "identifier": [f"https://fhir.nhs.uk/Id/nhs-number|{NHS_NUMBER}"],
    }
    assert health.work.items(HEALTH) == []  # nothing waits for a person
    (audit,) = health.work.items(HEALTH, include_closed=True)
    assert (audit.state, audit.closed_by, audit.outcome) == (
        WorkState.ANSWERED,
        SYSTEM_ACTOR,
        "found",
    )


def test_the_address_goes_only_where_the_questions_ask_for_it(
    world: ResponderWorld, stub: FhirStub, health: Responder
) -> None:
    stub.patients = [patient()]
    world.enquire(health, enquiry(questions=(LocateQuestion.REGISTERED_GP,)))
    answer = only_reply(world)
    assert answer.registered_gp == "M85001"
    assert answer.current_address is None
    assert "identifier" not in stub.searches[0]  # no NHS number in the enquiry, none sent


@pytest.mark.parametrize("pds_too_many", [False, True])
def test_several_matches_wait_for_a_person(
    world: ResponderWorld, stub: FhirStub, health: Responder, pds_too_many: bool
) -> None:
    stub.pds_too_many = pds_too_many
    stub.patients = [patient(), patient("p2", nhs_number=nhs_number(50), address=None)]
    world.enquire(health, enquiry())
    assert world.replies(HEALTH) == []
    (item,) = health.work.items(HEALTH)
    assert item.reason == SEVERAL_MATCHES


def test_no_match_waits_for_a_person_after_trying_former_surnames(
    world: ResponderWorld, stub: FhirStub, health: Responder
) -> None:
    stub.patients = [patient(birth_date=date(2015, 5, 2))]
    world.enquire(health, enquiry(former_surnames=(FORMER_SURNAME,)))
    assert world.replies(HEALTH) == []
    assert [s["family"] for s in stub.searches] == [[SURNAME], [FORMER_SURNAME]]
    assert health.work.items(HEALTH)[0].reason == NO_MATCH


def test_a_restricted_patient_is_withheld_and_alerts_the_health_team(
    world: ResponderWorld, stub: FhirStub, health: Responder
) -> None:
    stub.patients = [patient(restricted=True)]
    world.enquire(health, enquiry())
    answer = only_reply(world)
    assert answer.outcome is LocateOutcome.KNOWN_WITHHELD
    assert (answer.current_address, answer.registered_gp) == (None, None)
    assert answer.refer_to_social_care is True
    assert answer.note == RESTRICTED_NOTE
    (alert,) = health.work.items(HEALTH)
    assert (alert.kind, alert.reason, alert.same_day) == (WorkKind.ALERT, RESTRICTED_RECORD, True)
    health.acknowledge(alert.item_id, "user:safeguarding-lead")
    assert health.work.items(HEALTH) == []
    assert len(world.replies(HEALTH)) == 1


def test_an_endpoint_that_is_down_leaves_the_enquiry_to_a_person(
    world: ResponderWorld, stub: FhirStub, health: Responder
) -> None:
    stub.failing = True
    world.enquire(health, enquiry(case_ref="CME-330-DOWN"))
    stub.stop()
    world.enquire(health, enquiry(case_ref="CME-330-GONE"))
    reasons = {i.case_ref: i.reason for i in health.work.items(HEALTH)}
    assert reasons == {"CME-330-DOWN": "fhir_http_error", "CME-330-GONE": "fhir_unreachable"}
    assert world.replies(HEALTH) == []


def test_the_same_enquiry_delivered_twice_is_answered_once(
    world: ResponderWorld, stub: FhirStub, health: Responder
) -> None:
    stub.patients = [patient()]
    wire = world.seal(HEALTH, "cme.locate_enquiry", enquiry())
    world.deliver(health, wire)
    world.deliver(health, wire)
    assert len(world.replies(HEALTH)) == 1
    assert len(stub.searches) == 1  # the second delivery did not even search
    assert len(health.work.items(HEALTH, include_closed=True)) == 1
