"""Every message model: examples validate and round-trip; cross-field rules refuse bad payloads;
unknown fields and mutation are refused; errors never echo the payload.
"""

import json
import random
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError

from schemas.base import WireModel
from schemas.examples import example_payload
from schemas.registry import MessageSpec, PayloadInvalidError, default_registry

SPECS = default_registry().specs()
Data = dict[str, Any]


def spec_id(spec: MessageSpec) -> str:
    return f"{spec.type}.v{spec.version}"


def example_data(message_type: str, version: int | None = None, seed: int = 0) -> Data:
    """The example as JSON-like data, from a fixed seed so a case always starts the same."""
    payload = example_payload(message_type, version, rng=random.Random(seed))
    data: Data = payload.model_dump(mode="json")
    return data


def validate(message_type: str, data: Data, version: int | None = None) -> WireModel:
    registry = default_registry()
    spec = registry.spec(message_type, version or registry.latest(message_type))
    return spec.model.model_validate(data)


def test_the_catalogue_is_complete() -> None:
    assert {s.type for s in SPECS} == {
        "school.new_pupil_return",
        "school.deletion_return",
        "school.non_arrival",
        "school.attendance_return",
        "school.sickness_return",
        "school.destination_check",
        "school.destination_confirmation",
        "cme.referral",
        "cme.locate_enquiry",
        "cme.locate_response",
        "cme.cross_border_notification",
        "cme.cross_border_confirmation",
        "cme.enquiries_complete",
        "cme.case_status",
        "safeguarding.escalation",
        "receipt",
    }


def test_special_category_types() -> None:
    flagged = {s.type for s in SPECS if s.special_category}
    assert flagged == {
        "school.sickness_return",
        "cme.referral",
        "cme.locate_response",
        "safeguarding.escalation",
    }


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_every_model_is_documented_and_strict(spec: MessageSpec) -> None:
    assert len(spec.model.__doc__ or "") > 80
    assert spec.model.model_config.get("frozen") is True
    assert spec.model.model_config.get("extra") == "forbid"


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_example_validates_and_round_trips(spec: MessageSpec) -> None:
    payload = example_payload(spec.type, spec.version)
    assert type(payload) is spec.model
    text = payload.model_dump_json()
    assert spec.model.model_validate_json(text) == payload
    again = default_registry().validate(spec.type, spec.version, json.loads(text))
    assert again == payload
    assert again.model_dump_json() == text


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_unknown_field_is_refused(spec: MessageSpec) -> None:
    data = example_data(spec.type, spec.version)
    data["unexpected"] = "PLANTED-7Q3X"
    with pytest.raises(ValidationError) as caught:
        spec.model.model_validate(data)
    assert caught.value.errors()[0]["type"] == "extra_forbidden"
    assert "PLANTED-7Q3X" not in str(caught.value)


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_payload_is_frozen(spec: MessageSpec) -> None:
    payload = example_payload(spec.type, spec.version)
    name = next(iter(spec.model.model_fields))
    with pytest.raises(ValidationError, match="frozen"):
        setattr(payload, name, getattr(payload, name))


def _set(**changes: Any) -> Callable[[Data], None]:
    """A mutation: set `__`-separated paths (`child__date_of_birth`, `receipts__0__outcome`)
    to values; `...` deletes."""

    def mutate(data: Data) -> None:
        for dotted, value in changes.items():
            *parents, last = dotted.split("__")
            target = data
            for key in parents:
                target = target[int(key)] if isinstance(target, list) else target[key]
            if value is ...:
                target.pop(last, None)
            else:
                target[last] = value

    return mutate


ADDRESS = {"lines": ["1 Example Road"], "town": "Birmingham", "postcode": "ZZ99 3AB"}
SCHOOL_REF = {"laestab": "3314012"}
UUID_1 = "6f1c2a4e-2b1d-4c8e-9f00-1234567890ab"

# (type, mutation, a fragment of the expected error). Each mutation sets every field its rule
# reads, so the case does not depend on the example's random choices.
INVALID: list[tuple[str, Callable[[Data], None], str]] = [
    ("school.new_pupil_return", _set(school="la:330"), "of kind school"),
    (
        "school.new_pupil_return",
        _set(child__date_of_birth="2015-01-01", entry_date="2014-12-31"),
        "entry_date is before",
    ),
    ("school.new_pupil_return", _set(year_group="14"), "pattern"),
    ("school.new_pupil_return", _set(year_group="0"), "pattern"),
    (
        "school.non_arrival",
        _set(child__date_of_birth="2015-01-01", expected_start_date="2014-09-01"),
        "expected_start_date is before",
    ),
    ("school.non_arrival", _set(last_known_address=...), "Field required"),
    ("school.attendance_return", _set(school_days_absent=9), "greater than or equal to 10"),
    ("school.attendance_return", _set(absence_codes=[]), "at least 1"),
    ("school.attendance_return", _set(absence_codes=["X"]), "'G', 'N', 'O' or 'U'"),
    ("school.attendance_return", _set(absence_codes=["G", "G"]), "must not repeat"),
    ("school.sickness_return", _set(expected_school_days=14), "greater than or equal to 15"),
    (
        "school.sickness_return",
        _set(child__date_of_birth="2015-01-01", illness_start="2010-01-01"),
        "illness_start is before",
    ),
    (
        "school.destination_check",
        _set(from_school="school:3304000", to_school="school:3304000"),
        "must differ",
    ),
    ("school.destination_check", _set(to_school="la:330"), "of kind school"),
    (
        "school.destination_confirmation",
        _set(status="registered", start_date=None),
        "start_date is required",
    ),
    (
        "school.destination_confirmation",
        _set(status="not_known", start_date="2025-09-01"),
        "start_date is required",
    ),
    (
        "school.deletion_return",
        _set(destination_known=True, future_address=None, new_school=None),
        "destination_known needs",
    ),
    ("school.deletion_return", _set(ground="9(1)(p)"), "ground"),
    ("cme.referral", _set(referrer="hub:330"), "hub"),
    ("cme.referral", _set(referrer="gp:M85001"), "unknown agency kind"),
    ("cme.referral", _set(reason="lost"), "reason"),
    (
        "cme.referral",
        _set(risk_flags=["looked_after", "looked_after"]),
        "must not repeat",
    ),
    (
        "cme.referral",
        _set(child__date_of_birth="2015-01-01", last_seen="2014-01-01"),
        "last_seen is before",
    ),
    ("cme.locate_enquiry", _set(questions=[]), "at least 1"),
    ("cme.locate_enquiry", _set(questions=["whereabouts", "whereabouts"]), "must not repeat"),
    ("cme.locate_enquiry", _set(case_ref="case ref!"), "pattern"),
    ("cme.locate_enquiry", _set(child__upn="A801200005001"), "check letter"),
    (
        "cme.locate_response",
        _set(outcome="known_withheld", current_address=ADDRESS, registered_gp=None, school=None),
        "withheld answer",
    ),
    (
        "cme.locate_response",
        _set(outcome="known_withheld", current_address=None, registered_gp="M85002", school=None),
        "withheld answer",
    ),
    (
        "cme.locate_response",
        _set(outcome="not_found", current_address=None, registered_gp="M85002", school=None),
        "not-found answer",
    ),
    (
        "cme.locate_response",
        _set(outcome="found", current_address=None, registered_gp=None, school=None),
        "found answer needs",
    ),
    ("cme.locate_response", _set(refer_to_social_care=...), "Field required"),
    ("cme.cross_border_notification", _set(from_la="la:330", to_la="la:330"), "must differ"),
    ("cme.cross_border_notification", _set(to_la="social_care:331"), "of kind la"),
    ("cme.cross_border_notification", _set(evidence=...), "Field required"),
    (
        "cme.cross_border_confirmation",
        _set(outcome="on_roll", school=None, accepts_responsibility=True),
        "on_roll needs",
    ),
    (
        "cme.cross_border_confirmation",
        _set(outcome="on_roll", school={"laestab": "XXXXXXX"}, accepts_responsibility=True),
        "on_roll needs",
    ),
    (
        "cme.cross_border_confirmation",
        _set(outcome="moved_abroad", school=None, accepts_responsibility=True),
        "only a child found",
    ),
    (
        "cme.enquiries_complete",
        _set(result="enquiries_exhausted", deletion_ground="9(1)(a)"),
        "only be 9(1)(h) or 9(1)(i)",
    ),
    (
        "cme.enquiries_complete",
        _set(result="child_located", deletion_ground="9(1)(h)"),
        "only when enquiries are exhausted",
    ),
    ("cme.enquiries_complete", _set(school="la:330"), "of kind school"),
    ("cme.case_status", _set(status="closed", outcome=None), "outcome is required"),
    ("cme.case_status", _set(status="opened", outcome="deceased"), "outcome is required"),
    ("cme.case_status", _set(status="closed", outcome="gone"), "outcome"),
    ("safeguarding.escalation", _set(risk_flags=[]), "at least 1"),
    (
        "safeguarding.escalation",
        _set(risk_flags=["looked_after"], same_day_required=False),
        "needs same_day_required",
    ),
    ("safeguarding.escalation", _set(from_agency="hub:330"), "cannot make one"),
    (
        "safeguarding.escalation",
        _set(child__date_of_birth="2015-01-01", missing_since="2014-01-01"),
        "missing_since is before",
    ),
    ("receipt", _set(receipts__0__outcome="rejected", receipts__0__reason_code=None), "needs a"),
    (
        "receipt",
        _set(receipts__0__outcome="rejected", receipts__0__reason_code="x_y"),
        "only accepts",
    ),
    ("receipt", _set(receipts__0__outcome="accepted", receipts__0__reason_code="x_y"), "needs a"),
    ("receipt", _set(receipts__0__received_at="2025-01-01T09:00:00"), "timezone"),
    ("receipt", _set(receipts=[]), "at least 1"),
    ("receipt", lambda d: d.update(receipts=d["receipts"][:1] * 2), "receipted once"),
]

VALID: list[tuple[str, Callable[[Data], None]]] = [
    ("school.destination_confirmation", _set(status="registered", start_date="2025-09-01")),
    ("school.destination_confirmation", _set(status="not_registered", start_date=None)),
    (
        "cme.locate_response",
        _set(outcome="known_withheld", current_address=None, registered_gp=None, school=None),
    ),
    (
        "cme.locate_response",
        _set(outcome="found", current_address=None, registered_gp="M85002", school=None),
    ),
    (
        "cme.cross_border_confirmation",
        _set(outcome="on_roll", school=SCHOOL_REF, accepts_responsibility=True),
    ),
    (
        "cme.cross_border_confirmation",
        _set(outcome="moved_on", school=None, accepts_responsibility=False),
    ),
    (
        "cme.enquiries_complete",
        _set(result="enquiries_exhausted", deletion_ground="9(1)(i)"),
    ),
    ("cme.enquiries_complete", _set(result="child_located", deletion_ground=None)),
    ("cme.case_status", _set(status="closed", outcome="receiving_la_accepted")),
    ("cme.case_status", _set(status="reopened", outcome=None, in_reply_to=UUID_1)),
    (
        "safeguarding.escalation",
        _set(risk_flags=["unstable_family"], same_day_required=False),
    ),
    ("school.attendance_return", _set(absence_codes=["G", "N", "O", "U"])),
]


def _case_id(case: tuple[Any, ...]) -> str:
    return f"{case[0]}:{case[2]}" if len(case) == 3 else str(case[0])


@pytest.mark.parametrize("case", INVALID, ids=_case_id)
def test_cross_field_and_field_rules_refuse(case: tuple[str, Callable[[Data], None], str]) -> None:
    message_type, mutate, fragment = case
    data = example_data(message_type)
    mutate(data)
    with pytest.raises(ValidationError) as caught:
        validate(message_type, data)
    assert fragment in str(caught.value)


@pytest.mark.parametrize("case", VALID, ids=lambda c: c[0])
def test_allowed_combinations_validate(case: tuple[str, Callable[[Data], None]]) -> None:
    message_type, mutate = case
    data = example_data(message_type)
    mutate(data)
    validate(message_type, data)


def test_deletion_return_v1_refuses_a_consistent_identifier() -> None:
    data = example_data("school.deletion_return", 1)
    data["child"]["consistent_identifier"] = "9434765919"
    with pytest.raises(ValidationError, match="Extra inputs"):
        validate("school.deletion_return", data, 1)


def test_errors_never_echo_a_planted_value() -> None:
    planted = "Zebedee-Planted"
    data = example_data("safeguarding.escalation")
    data["child"]["forenames"] = planted
    data["child"]["surname"] = planted * 10  # too long
    data["risk_flags"] = ["risk_of_harm"]
    data["same_day_required"] = False  # cross-field rule fails too
    with pytest.raises(ValidationError) as caught:
        validate("safeguarding.escalation", data)
    assert planted not in str(caught.value)
    assert planted not in repr(caught.value)
    with pytest.raises(PayloadInvalidError) as refused:
        default_registry().validate("safeguarding.escalation", 1, data)
    assert planted not in str(refused.value)
    assert "child.surname" in str(refused.value)


# A malformed identifier, by where a model has one: the value must not come back in the error.
PLANTED_IDENTIFIERS = [
    (("child", "nhs_number"), "9434765918"),  # fails the modulus 11 check
    (("child", "upn"), "A801200005001"),  # wrong check letter
    (("case_ref",), "CME 330 Zebedee"),
    (("message_id",), "Zebedee-not-a-uuid"),
    (("check_message_id",), "Zebedee-not-a-uuid"),
    (("receipts", 0, "message_id"), "Zebedee-not-a-uuid"),
]


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_a_planted_identifier_is_not_echoed(spec: MessageSpec) -> None:
    data = example_data(spec.type, spec.version)
    for path, planted in PLANTED_IDENTIFIERS:
        *parents, last = path
        target = data
        for key in parents:
            target = target[key] if isinstance(target, list) else target.get(key, {})
        if last in target:
            target[last] = planted
            break
    else:
        pytest.fail("no identifier field to plant a value in")
    with pytest.raises(PayloadInvalidError) as refused:
        default_registry().validate(spec.type, spec.version, data)
    assert planted not in str(refused.value)
    assert refused.value.reason == "schema_invalid"
