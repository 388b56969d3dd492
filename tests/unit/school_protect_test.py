"""The adapter's digests and sealed payloads, and the settings that key them."""

import secrets

import pytest
from pydantic import ValidationError

from adapters.school.errors import SchoolError
from adapters.school.protect import Protector, decode_key, new_key
from adapters.school.settings import DEV_FIELD_KEY, SchoolSettings
from broker.settings import Environment
from schemas.child import PupilSummary
from tests.unit.school_builders import OLD, child


@pytest.fixture
def protector() -> Protector:
    return Protector(secrets.token_bytes(32), secrets.token_bytes(32))


def test_a_pupil_is_recognised_across_spelling_case_and_middle_names(
    protector: Protector,
) -> None:
    pupil = child(1)
    summary = PupilSummary(
        forenames=pupil.forenames.split()[0].upper() + " Extra",
        surname=f" {pupil.surname.lower()} ",
        date_of_birth=pupil.date_of_birth,
        upn=pupil.upn,
    )
    assert protector.pupil_keys(pupil) == protector.pupil_keys(summary)
    assert protector.pupil_keys(child(2)).person != protector.pupil_keys(pupil).person


def test_digests_are_keyed_and_domain_separated(protector: Protector) -> None:
    other = Protector(secrets.token_bytes(32), secrets.token_bytes(32))
    assert protector.digest("upn", "X") != other.digest("upn", "X")
    assert protector.digest("upn", "X") != protector.digest("person", "X")
    assert len(protector.digest("upn", "X")) == 43


def test_a_sealed_value_opens_only_in_its_own_row(protector: Protector) -> None:
    token = protector.seal("held return", "school_deletion", "payload", "row1")
    assert "held" not in token
    assert protector.open(token, "school_deletion", "payload", "row1") == "held return"
    with pytest.raises(SchoolError, match="undecryptable"):
        protector.open(token, "school_deletion", "payload", "row2")
    with pytest.raises(SchoolError, match="undecryptable"):
        protector.open("plain text", "school_deletion", "payload", "row1")


def test_keys_are_32_bytes_of_base64url() -> None:
    assert len(decode_key(new_key())) == 32
    with pytest.raises(ValueError, match="exactly 32 bytes"):
        decode_key("c2hvcnQ")


def test_production_refuses_the_placeholder_keys_and_never_echoes_a_key() -> None:
    with pytest.raises(ValidationError) as caught:
        SchoolSettings(environment=Environment.PRODUCTION)
    assert DEV_FIELD_KEY not in str(caught.value)
    same = new_key()
    production = {"environment": "production"}
    with pytest.raises(ValidationError, match="must differ"):
        SchoolSettings.model_validate(production | {"field_key": same, "index_key": same})
    SchoolSettings.model_validate(production | {"field_key": new_key(), "index_key": new_key()})


def test_settings_build_the_policy_of_a_school() -> None:
    settings = SchoolSettings.model_validate(
        {"junior_year": "R", "top_year": "6", "years": {"2026": ["2026-09-03", "2027-07-21"]}}
    )
    policy = settings.policy(OLD)
    assert policy.la_id == "la:330"
    assert policy.calendar.last_day(2026).isoformat() == "2027-07-21"
    with pytest.raises(ValueError, match="school"):
        settings.policy("la:330")
    with pytest.raises(ValidationError):
        SchoolSettings.model_validate({"years": {"2026": ["2027-09-03", "2026-07-21"]}})
