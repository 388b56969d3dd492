"""Example payloads and justifications: synthetic, consistent with their parties, realistic."""

import random
from datetime import date

import pytest

from schemas.agency import AgencyKind, kind_of
from schemas.errors import UnknownMessageTypeError, UnknownSchemaVersionError
from schemas.examples import (
    HOUSING,
    LA,
    SCHOOL,
    example_justification,
    example_payload,
    example_sender_recipient,
)
from schemas.identifiers import nhs_check_digit, upn_check_letter
from schemas.justification import LawfulBasis, Purpose, SpecialCategoryCondition
from schemas.registry import MessageSpec, default_registry

SPECS = default_registry().specs()
TYPES = default_registry().types()
STATUTORY_RETURNS = [
    "school.new_pupil_return",
    "school.deletion_return",
    "school.attendance_return",
    "school.sickness_return",
]
PARTY_FIELDS = ("school", "referrer", "from_agency", "from_school", "to_school", "from_la", "to_la")


def spec_id(spec: MessageSpec) -> str:
    return f"{spec.type}.v{spec.version}"


def test_examples_repeat_without_a_random_source() -> None:
    today = date(2025, 10, 6)
    for message_type in TYPES:
        first = example_payload(message_type, today=today)
        assert example_payload(message_type, today=today) == first


def test_a_seeded_random_source_gives_variety() -> None:
    names = {
        example_payload("cme.referral", rng=random.Random(seed)).model_dump()["child"]["surname"]
        for seed in range(20)
    }
    assert len(names) > 5


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_child_identifiers_are_synthetic(spec: MessageSpec) -> None:
    for seed in range(10):
        child = example_payload(spec.type, spec.version, rng=random.Random(seed)).model_dump()
        child = child.get("child") or {}
        if child.get("nhs_number"):
            assert child["nhs_number"].startswith("999")
            assert nhs_check_digit(child["nhs_number"][:9]) == int(child["nhs_number"][9])
        if child.get("upn"):
            assert upn_check_letter(child["upn"][1:]) == child["upn"][0]
        for address in child.get("addresses", ()):
            assert address["postcode"].startswith("ZZ99 ")


@pytest.mark.parametrize("message_type", TYPES)
def test_payload_parties_match_the_default_sender_and_recipient(message_type: str) -> None:
    sender, recipient = example_sender_recipient(message_type)
    data = example_payload(message_type).model_dump()
    named = {data[f] for f in PARTY_FIELDS if isinstance(data.get(f), str)}  # not a SchoolRef
    assert named <= {sender, recipient}
    if message_type.startswith("school.") and "school" in data:
        assert data["school"] == sender
    if message_type == "cme.enquiries_complete":
        assert data["school"] == recipient


@pytest.mark.parametrize("message_type", TYPES)
def test_every_type_has_a_valid_justification(message_type: str) -> None:
    sender, recipient = example_sender_recipient(message_type)
    justification = example_justification(message_type, sender=sender, recipient=recipient)
    spec = default_registry().spec(message_type, default_registry().latest(message_type))
    expected_special = SpecialCategoryCondition.SAFEGUARDING if spec.special_category else None
    assert justification.special_category == expected_special
    assert justification.agreement.version == 1
    assert set(justification.data_categories) == set(spec.model.model_fields)


@pytest.mark.parametrize("message_type", STATUTORY_RETURNS)
def test_statutory_returns_rest_on_a_legal_obligation(message_type: str) -> None:
    justification = example_justification(message_type, sender=SCHOOL, recipient=LA)
    assert justification.purpose is Purpose.STATUTORY_RETURN
    assert justification.lawful_basis is LawfulBasis.LEGAL_OBLIGATION
    assert justification.statutory_gateways == ("SI 2024/208 reg 13",)
    assert justification.agreement.id == "cme-area-330"


def test_locate_enquiry_is_a_public_task_under_s436a() -> None:
    sender, recipient = example_sender_recipient("cme.locate_enquiry")
    justification = example_justification("cme.locate_enquiry", sender=sender, recipient=recipient)
    assert justification.purpose is Purpose.LOCATE_ENQUIRY
    assert justification.lawful_basis is LawfulBasis.PUBLIC_TASK
    assert "Education Act 1996 s436A" in justification.statutory_gateways
    assert "Children Act 2004 s11" in justification.statutory_gateways


def test_safeguarding_escalation_basis() -> None:
    sender, recipient = example_sender_recipient("safeguarding.escalation")
    assert kind_of(recipient) is AgencyKind.SOCIAL_CARE
    justification = example_justification(
        "safeguarding.escalation", sender=sender, recipient=recipient
    )
    assert justification.purpose is Purpose.SAFEGUARDING_ESCALATION
    assert justification.lawful_basis is LawfulBasis.PUBLIC_TASK
    assert "Children Act 1989 s47" in justification.statutory_gateways
    assert justification.special_category is SpecialCategoryCondition.SAFEGUARDING


def test_cross_border_share_names_a_cross_border_agreement() -> None:
    sender, recipient = example_sender_recipient("cme.cross_border_notification")
    justification = example_justification(
        "cme.cross_border_notification", sender=sender, recipient=recipient
    )
    assert justification.agreement.id == "cme-cross-border-330-331"


def test_a_housing_association_answers_on_recognised_legitimate_interest() -> None:
    council = example_justification("cme.locate_response", sender=HOUSING, recipient=LA)
    assert council.lawful_basis is LawfulBasis.PUBLIC_TASK
    association = example_justification(
        "cme.locate_response", sender="housing:LH4231", recipient=LA
    )
    assert association.lawful_basis is LawfulBasis.RECOGNISED_LEGITIMATE_INTEREST


def test_each_justification_is_a_new_decision() -> None:
    first = example_justification("receipt", sender=LA, recipient=SCHOOL)
    second = example_justification("receipt", sender=LA, recipient=SCHOOL)
    assert first.decision_id != second.decision_id


def test_unknown_types_and_versions_are_refused() -> None:
    with pytest.raises(UnknownMessageTypeError):
        example_payload("school.unknown")
    with pytest.raises(UnknownSchemaVersionError):
        example_payload("cme.referral", 9)
    with pytest.raises(UnknownMessageTypeError):
        example_sender_recipient("school.unknown")
    with pytest.raises(UnknownMessageTypeError):
        example_justification("school.unknown", sender=SCHOOL, recipient=LA)
    with pytest.raises(ValueError, match="unknown agency kind"):
        example_justification("cme.referral", sender="gp:M85001", recipient=LA)
