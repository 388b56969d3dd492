"""Health answering from a FHIR R4 Patient search over real HTTP (the in-process FHIR stub):
the request as PDS takes it, the unique-match rule, restricted records, minimum disclosure, an
endpoint that is down, and one enquiry delivered twice."""

import time
import traceback
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import structlog.testing

from adapters.health.app import build_health
from adapters.health.fhir import FhirConfig, FhirPatientIndex
from adapters.health.fhir_stub import FhirStub, synthetic_patient
from adapters.health.model import PatientQuery
from adapters.health.rules import NO_ADDRESS_GP_NOTE, RESTRICTED_NOTE, RESTRICTED_RECORD
from adapters.health.settings import HealthSettings
from broker.responder import Finding, Responder, SourceUnavailable, WorkKind, WorkState
from broker.responder.model import (
    LOCATION_UNCERTAIN,
    NO_MATCH,
    SEVERAL_MATCHES,
    SOURCE_UNAVAILABLE,
    SYSTEM_ACTOR,
)
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


def patient(patient_id: str | None = "p1", **overrides: Any) -> dict[str, Any]:
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


def build(world: ResponderWorld, stub: FhirStub, **settings: Any) -> Responder:
    """The health responder on the stub, with these `HealthSettings` (timeouts, cool-down)."""
    config = HealthSettings(**settings)
    index = FhirPatientIndex(FhirConfig(stub.base_url, timeout_s=config.fhir_timeout_s))
    return build_health(world.container, config, world.responder_settings, index).responder


@pytest.fixture
def health(world: ResponderWorld, stub: FhirStub) -> Responder:
    return build(world, stub, fhir_timeout_s=5)


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
    world: ResponderWorld, stub: FhirStub
) -> None:
    health = build(world, stub, fhir_cooldown_s=0)  # no pause: each enquiry tries the endpoint
    stub.failing = True
    world.enquire(health, enquiry(case_ref="CME-330-DOWN"))
    stub.stop()
    world.enquire(health, enquiry(case_ref="CME-330-GONE"))
    reasons = {i.case_ref: i.reason for i in health.work.items(HEALTH)}
    assert reasons == {"CME-330-DOWN": "fhir_http_error", "CME-330-GONE": "fhir_unreachable"}
    assert world.replies(HEALTH) == []


def test_after_a_failure_the_endpoint_is_left_alone_for_the_cool_down(
    world: ResponderWorld, stub: FhirStub, health: Responder
) -> None:
    stub.failing = True
    world.enquire(health, enquiry(case_ref="CME-330-DOWN"))
    stub.failing = False
    stub.patients = [patient()]
    world.enquire(health, enquiry(case_ref="CME-330-NEXT"))
    world.enquire(health, enquiry(case_ref="CME-330-THIRD"))
    reasons = {i.case_ref: i.reason for i in health.work.items(HEALTH)}
    assert reasons == {
        "CME-330-DOWN": "fhir_http_error",
        "CME-330-NEXT": SOURCE_UNAVAILABLE,
        "CME-330-THIRD": SOURCE_UNAVAILABLE,
    }
    assert len(stub.searches) == 1  # the endpoint was not called again within 60 s
    assert world.replies(HEALTH) == []


@pytest.mark.parametrize(
    "settings",
    [{"fhir_timeout_s": 0.5}, {"fhir_timeout_s": 10, "lookup_budget_s": 0.5}],
    ids=["request-timeout", "enquiry-budget"],
)
def test_a_slow_endpoint_holds_the_inbox_no_longer_than_its_bound(
    world: ResponderWorld, stub: FhirStub, settings: dict[str, float]
) -> None:
    health = build(world, stub, **settings)
    stub.patients = [patient()]
    stub.delay_s = 10
    started = time.monotonic()
    world.enquire(health, enquiry(case_ref="CME-330-SLOW", former_surnames=(FORMER_SURNAME,)))
    assert time.monotonic() - started < 3  # not 10 s, nor 10 s per surname
    world.enquire(health, enquiry(case_ref="CME-330-NEXT"))
    reasons = {i.case_ref: i.reason for i in health.work.items(HEALTH)}
    assert reasons == {"CME-330-SLOW": "fhir_timeout", "CME-330-NEXT": SOURCE_UNAVAILABLE}
    assert len(stub.searches) == 1
    assert world.replies(HEALTH) == []


def test_two_patients_without_an_id_wait_for_a_person(
    world: ResponderWorld, stub: FhirStub, health: Responder
) -> None:
    """Two children the server returns without ids must never read as one unique match."""
    elsewhere = {**HOME, "line": ["99 Elsewhere Road"], "postalCode": "ZZ99 8EW"}
    stub.patients = [patient(None, nhs_number=None), patient(None, nhs_number=None,
                                                              address=elsewhere)]  # fmt: skip
    world.enquire(health, enquiry())
    assert world.replies(HEALTH) == []
    (item,) = health.work.items(HEALTH)
    assert item.reason == "fhir_response_invalid"


def test_a_gp_without_an_address_waits_for_a_person_who_sees_the_gp(
    world: ResponderWorld, stub: FhirStub, health: Responder
) -> None:
    stub.patients = [patient(address=None)]
    world.enquire(health, enquiry())
    assert world.replies(HEALTH) == []  # never `found` on a GP registration alone
    (item,) = health.work.items(HEALTH)
    assert item.reason == LOCATION_UNCERTAIN
    finding = health.work.detail(HEALTH, item.item_id).finding
    assert finding == Finding(date(2026, 10, 1), NO_ADDRESS_GP_NOTE, registered_gp="M85001")


PLANTED_FORENAME, PLANTED_SURNAME = "Zephyrinette", "Quillfeatherby"
PLANTED_DOB = date(2014, 2, 3)


def _texts(exc: BaseException) -> str:
    """Everything an exception (and whatever it chains to) shows or holds."""
    parts = ["".join(traceback.format_exception(exc))]
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        one = todo.pop()
        if one is None or id(one) in seen:
            continue
        seen.add(id(one))
        parts += [str(one), repr(one), repr(one.args), repr(vars(one))]
        todo += [one.__cause__, one.__context__]
    return "\n".join(parts)


@pytest.mark.parametrize("failure", ["http_503", "unreachable", "timeout", "invalid"])
def test_a_failing_fhir_call_names_no_child_in_its_exception_or_logs(
    world: ResponderWorld, stub: FhirStub, failure: str, capsys: pytest.CaptureFixture[str]
) -> None:
    index = FhirPatientIndex(FhirConfig(stub.base_url, timeout_s=0.5))
    if failure == "http_503":
        stub.failing = True
    elif failure == "unreachable":
        stub.stop()
    elif failure == "timeout":
        stub.delay_s = 5
    else:  # a Patient without an id: the response is refused
        stub.patients = [patient(None, family=PLANTED_SURNAME, given=PLANTED_FORENAME,
                                 birth_date=PLANTED_DOB)]  # fmt: skip
    query = PatientQuery(PLANTED_SURNAME, PLANTED_FORENAME, PLANTED_DOB, NHS_NUMBER)
    with pytest.raises(SourceUnavailable) as caught:
        index.search(query, date(2026, 11, 2))
    planted = (PLANTED_FORENAME, PLANTED_SURNAME, PLANTED_DOB.isoformat(), "20140203",
               NHS_NUMBER, "Patient?")  # fmt: skip
    text = _texts(caught.value)
    assert caught.value.reason.startswith("fhir_")
    for secret in planted:
        assert secret not in text, (failure, secret)

    health = build(world, stub, fhir_timeout_s=0.5)
    planted_child = enquiry(forenames=PLANTED_FORENAME, surname=PLANTED_SURNAME,
                            date_of_birth=PLANTED_DOB, nhs_number=NHS_NUMBER)  # fmt: skip
    with structlog.testing.capture_logs() as logs:
        world.enquire(health, planted_child)
    written = repr(logs) + "".join(capsys.readouterr())
    assert any(entry.get("event") == "responder.source_unavailable" for entry in logs)
    for secret in planted:
        assert secret not in written, (failure, secret)


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
