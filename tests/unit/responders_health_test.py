"""Health's rules without I/O: reading FHIR search responses, the unique-match rule, restricted
records and minimum disclosure per question."""

from datetime import date
from typing import Any

import pytest

from adapters.health.fhir_parse import parse_patient, parse_search
from adapters.health.fhir_stub import synthetic_patient
from adapters.health.model import PatientQuery, PatientRecord, PatientSearch
from adapters.health.rules import (
    NO_ADDRESS_GP_NOTE,
    NO_ADDRESS_NOTE,
    NO_CONFIDENT_MATCH,
    RESTRICTED_NOTE,
    RESTRICTED_RECORD,
    UNIDENTIFIED_RECORD,
    UNIQUE_MATCH,
    decide,
    possible_matches,
    queries_for,
)
from adapters.health.source import LOOKUP_TIMEOUT, HealthSource
from broker.responder import Answered, Deadline, Finding, Referred, SourceUnavailable
from broker.responder.model import (
    LOCATION_UNCERTAIN,
    NO_MATCH,
    NOTHING_TO_DISCLOSE,
    SEVERAL_MATCHES,
)
from schemas.messages.cme import LocateOutcome, LocateQuestion
from tests.unit.responders_builders import (
    ALL_QUESTIONS,
    CHILD_DOB,
    FORMER_SURNAME,
    NHS_NUMBER,
    SURNAME,
    TODAY,
    address,
    enquiry,
    nhs_number,
)

HOME = {"use": "home", "line": ["12 Example Road"], "city": "Exampleton", "postalCode": "ZZ99 1AB"}


def patient(patient_id: str | None = "p1", **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "family": SURNAME,
        "given": "Isla",
        "birth_date": CHILD_DOB,
        "nhs_number": NHS_NUMBER,
        "gp_ods": "M85001",
        "address": HOME,
    }
    fields.update(overrides)
    return synthetic_patient(patient_id, **fields)


def bundle(*resources: dict[str, Any], **extra: Any) -> dict[str, Any]:
    entries = [{"resource": r, "search": {"mode": "match"}} for r in resources]
    return {"resourceType": "Bundle", "type": "searchset", "entry": entries, **extra}


def record(**overrides: Any) -> PatientRecord:
    fields: dict[str, Any] = {
        "key": "p1",
        "birth_date": CHILD_DOB,
        "nhs_number": NHS_NUMBER,
        "restricted": False,
        "gp_practice": "M85001",
        "address": address(),
        "last_updated": date(2026, 10, 1),
    }
    fields.update(overrides)
    return PatientRecord(**fields)


# -- reading FHIR ------------------------------------------------------------------------------


def test_a_patient_is_reduced_to_what_an_answer_may_use() -> None:
    (found,) = parse_search(bundle(patient()), TODAY).patients
    assert found.nhs_number == NHS_NUMBER
    assert found.birth_date == CHILD_DOB
    assert found.gp_practice == "M85001"
    assert found.address == address()
    assert found.last_updated == date(2026, 10, 1)
    assert found.restricted is False


@pytest.mark.parametrize(
    "security",
    [
        {"code": "R"},
        {"code": "V", "display": "very restricted"},
        {"display": "Restricted"},
    ],
)
def test_restricted_records_are_recognised(security: dict[str, str]) -> None:
    resource = patient()
    resource["meta"]["security"] = [security]
    assert parse_patient(resource, TODAY).restricted is True


def test_pds_multiple_matches_outcome_means_too_many() -> None:
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [
            {"code": "multiple-matches", "details": {"coding": [{"code": "TOO_MANY_MATCHES"}]}}
        ],
    }
    assert parse_search(outcome, TODAY) == PatientSearch((), too_many=True)


def test_a_bundle_holding_more_than_it_returned_is_ambiguous() -> None:
    assert parse_search(bundle(patient(), total=3), TODAY).too_many
    next_page = [{"relation": "next", "url": "http://fhir.invalid/Patient?page=2"}]
    assert parse_search(bundle(patient(), link=next_page), TODAY).too_many


@pytest.mark.parametrize(
    "document",
    [
        [],
        {"resourceType": "Patient"},
        {"resourceType": "OperationOutcome", "issue": [{"code": "invalid"}]},
        {"resourceType": "Bundle", "entry": ["not an object"]},
        {
            "resourceType": "Bundle",
            "entry": [{"resource": {"resourceType": "Patient", "identifier": 7}}],
        },
    ],
)
def test_a_broken_response_is_unavailable_not_fewer_patients(document: object) -> None:
    with pytest.raises(SourceUnavailable) as caught:
        parse_search(document, TODAY)
    assert caught.value.reason == "fhir_response_invalid"


@pytest.mark.parametrize("patient_id", [None, "", "has space", "p1\n", 7])
def test_a_patient_without_a_valid_id_makes_the_response_invalid(patient_id: object) -> None:
    """Two id-less patients (two children) must never read as one unique match."""
    other = patient(None, given="Isla", address={**HOME, "line": ["99 Elsewhere Road"]})
    resource = patient()
    if patient_id is None:
        del resource["id"]
    else:
        resource["id"] = patient_id
    with pytest.raises(SourceUnavailable) as caught:
        parse_search(bundle(resource, other), TODAY)
    assert caught.value.reason == "fhir_response_invalid"


def test_the_current_temporary_address_wins_and_ended_ones_are_ignored() -> None:
    ended = {**HOME, "line": ["1 Gone Street"], "period": {"end": "2026-01-31"}}
    temp = {
        "use": "temp",
        "line": ["4 Shelter Court"],
        "city": "Exampleton",
        "postalCode": "ZZ99 4TT",
    }
    resource = patient()
    resource["address"] = [ended, HOME, temp]
    assert parse_patient(resource, TODAY).address == address("4 Shelter Court", "ZZ99 4TT")
    resource["address"] = [ended]
    assert parse_patient(resource, TODAY).address is None


def test_pds_style_lines_give_the_town_and_long_addresses_are_folded() -> None:
    lines = ["Flat 2", "5 Long Row", "Upper End", "Middleham", "Example Hill", "Exampleton"]
    pds = {"use": "home", "line": lines, "postalCode": "ZZ99 2PD"}
    resource = patient()
    resource["address"] = [pds]
    found = parse_patient(resource, TODAY).address
    assert found is not None
    assert found.town == "Exampleton"
    assert found.lines == ("Flat 2", "5 Long Row", "Upper End", "Middleham, Example Hill")


def test_only_the_current_ods_registration_is_the_gp() -> None:
    resource = patient()
    old = {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "Y00001",
           "period": {"start": "2019-01-01", "end": "2025-12-31"}}  # fmt: skip
    other_system = {"system": "https://example.invalid/gp", "value": "Z99999"}
    resource["generalPractitioner"] = [{"identifier": old}, {"identifier": other_system}]
    assert parse_patient(resource, TODAY).gp_practice is None


# -- the unique-match rule ---------------------------------------------------------------------


def test_no_match_and_several_matches_go_to_a_person() -> None:
    assert decide(enquiry(), [], TODAY) == Referred(NO_MATCH)
    two = [record(), record(key="p2", nhs_number=nhs_number(77))]
    assert decide(enquiry(), two, TODAY) == Referred(SEVERAL_MATCHES)


def test_one_match_is_found_with_gp_address_and_evidence_date() -> None:
    result = decide(enquiry(), [record()], TODAY)
    assert isinstance(result, Answered)
    assert result.basis == UNIQUE_MATCH
    assert result.alert is None
    answer = result.answer
    assert answer.outcome is LocateOutcome.FOUND
    assert answer.registered_gp == "M85001"
    assert answer.current_address == address()
    assert answer.evidence_date == date(2026, 10, 1)
    assert answer.refer_to_social_care is False


def test_a_restricted_patient_is_known_withheld_with_a_pointer_to_social_care() -> None:
    result = decide(enquiry(), [record(restricted=True)], TODAY)
    assert isinstance(result, Answered)
    answer = result.answer
    assert answer.outcome is LocateOutcome.KNOWN_WITHHELD
    assert answer.current_address is None
    assert answer.registered_gp is None
    assert answer.refer_to_social_care is True
    assert answer.note == RESTRICTED_NOTE
    assert result.alert == RESTRICTED_RECORD  # the health team sees it too


@pytest.mark.parametrize(
    ("questions", "address_given"),
    [
        ((LocateQuestion.REGISTERED_GP,), False),
        ((LocateQuestion.EDUCATION_STATUS, LocateQuestion.REGISTERED_GP), False),
        ((LocateQuestion.WHEREABOUTS,), True),
        ((LocateQuestion.CURRENT_ADDRESS,), True),
    ],
)
def test_the_address_is_disclosed_only_when_asked(
    questions: tuple[LocateQuestion, ...], address_given: bool
) -> None:
    result = decide(enquiry(questions=questions), [record()], TODAY)
    assert isinstance(result, Answered)
    assert (result.answer.current_address is not None) is address_given
    assert result.answer.registered_gp == "M85001"


def test_nothing_disclosable_goes_to_a_person() -> None:
    only_gp_asked = enquiry(questions=(LocateQuestion.REGISTERED_GP,))
    assert decide(only_gp_asked, [record(gp_practice=None)], TODAY) == Referred(NOTHING_TO_DISCLOSE)


def test_the_evidence_date_falls_back_to_the_day_of_the_search() -> None:
    result = decide(enquiry(), [record(last_updated=None)], TODAY)
    assert isinstance(result, Answered)
    assert result.answer.evidence_date == TODAY


@pytest.mark.parametrize("missing", [None, ""])
def test_records_without_an_id_are_never_merged_into_one_match(missing: str | None) -> None:
    elsewhere = address("99 Elsewhere Road", "ZZ99 8EW")
    two = [record(key=missing), record(key=missing, address=elsewhere)]
    matches = possible_matches(two, enquiry().child)
    assert len(matches) == 2
    assert decide(enquiry(), matches, TODAY) == Referred(SEVERAL_MATCHES)
    assert decide(enquiry(), [record(key=missing)], TODAY) == Referred(UNIDENTIFIED_RECORD)
    same_patient_twice = [record(key="p1"), record(key="p1")]
    assert possible_matches(same_patient_twice, enquiry().child) == [record()]


def test_two_id_less_patients_from_the_index_go_to_a_person() -> None:
    elsewhere = address("99 Elsewhere Road", "ZZ99 8EW")
    found = PatientSearch((record(key=None), record(key=None, address=elsewhere)))
    index = FakePatientIndex({SURNAME: found})
    assert HealthSource(index).locate(enquiry(), TODAY) == Referred(SEVERAL_MATCHES)


@pytest.mark.parametrize(
    "questions",
    [ALL_QUESTIONS, (LocateQuestion.REGISTERED_GP,)],
)
def test_a_gp_registration_without_an_address_goes_to_a_person_with_the_gp_shown(
    questions: tuple[LocateQuestion, ...],
) -> None:
    """The LA reads any `found` as the child located: a GP alone does not say where."""
    result = decide(enquiry(questions=questions), [record(address=None)], TODAY)
    expected = Finding(date(2026, 10, 1), NO_ADDRESS_GP_NOTE, registered_gp="M85001")
    assert result == Referred(LOCATION_UNCERTAIN, expected)


def test_a_match_with_neither_address_nor_gp_goes_to_a_person() -> None:
    result = decide(enquiry(), [record(address=None, gp_practice=None)], TODAY)
    assert result == Referred(LOCATION_UNCERTAIN, Finding(date(2026, 10, 1), NO_ADDRESS_NOTE))


def test_patients_the_enquiry_rules_out_do_not_count() -> None:
    other_dob = record(key="p2", birth_date=date(2015, 5, 2))
    other_nhs = record(key="p3", nhs_number=nhs_number(500))
    assert possible_matches(
        [record(), other_dob, other_nhs], enquiry(nhs_number=NHS_NUMBER).child
    ) == [record()]
    unconfirmed = record(birth_date=None)
    assert decide(enquiry(), [unconfirmed], TODAY) == Referred(NO_CONFIDENT_MATCH)


# -- the source: searches in order -------------------------------------------------------------


class FakePatientIndex:
    """Answers searches from a dict keyed by family name; records the queries."""

    def __init__(self, by_family: dict[str, PatientSearch]) -> None:
        self.by_family = by_family
        self.queries: list[PatientQuery] = []
        self.deadlines: list[Deadline | None] = []

    def search(
        self, query: PatientQuery, today: date, deadline: Deadline | None = None
    ) -> PatientSearch:
        self.queries.append(query)
        self.deadlines.append(deadline)
        return self.by_family.get(query.family, PatientSearch(()))


def test_former_surnames_are_searched_when_the_current_one_finds_nobody() -> None:
    index = FakePatientIndex({FORMER_SURNAME: PatientSearch((record(),))})
    question = enquiry(former_surnames=(FORMER_SURNAME,), nhs_number=NHS_NUMBER)
    result = HealthSource(index).locate(question, TODAY)
    assert isinstance(result, Answered)
    assert [q.family for q in index.queries] == [SURNAME, FORMER_SURNAME]
    assert index.queries[0] == PatientQuery(SURNAME, "Isla", CHILD_DOB, NHS_NUMBER)
    assert queries_for(question.child)[1].family == FORMER_SURNAME


def test_an_ambiguous_search_stops_at_once() -> None:
    index = FakePatientIndex({SURNAME: PatientSearch((), too_many=True)})
    question = enquiry(former_surnames=(FORMER_SURNAME,))
    assert HealthSource(index).locate(question, TODAY) == Referred(SEVERAL_MATCHES)
    assert len(index.queries) == 1


class SlowPatientIndex(FakePatientIndex):
    """Every search takes `seconds` on the fake monotonic clock it advances."""

    def __init__(self, seconds: float) -> None:
        super().__init__({})
        self.now = 0.0
        self.seconds = seconds

    def clock(self) -> float:
        return self.now

    def search(
        self, query: PatientQuery, today: date, deadline: Deadline | None = None
    ) -> PatientSearch:
        assert deadline is not None
        self.remaining = deadline.remaining()
        self.now += self.seconds
        return super().search(query, today, deadline)


def test_one_enquirys_searches_share_a_time_budget() -> None:
    index = SlowPatientIndex(seconds=6)
    source = HealthSource(index, budget_s=10, clock=index.clock)
    question = enquiry(former_surnames=(FORMER_SURNAME, "Cranberry"))
    with pytest.raises(SourceUnavailable) as caught:
        source.locate(question, TODAY)
    assert caught.value.reason == LOOKUP_TIMEOUT
    assert [q.family for q in index.queries] == [SURNAME, FORMER_SURNAME]  # not the third
    assert index.remaining == 4  # the index was told what was left of the budget
