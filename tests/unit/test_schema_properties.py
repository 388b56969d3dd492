"""Property tests: every model round-trips through JSON; identifier checks hold for any input;
rule-bearing models accept exactly the combinations their rules allow.
"""

import random
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from schemas.base import WireModel
from schemas.examples import example_payload
from schemas.identifiers import NhsNumber, Upn, nhs_check_digit, upn_check_letter
from schemas.messages.cme import CaseStatus, CaseStatusV1
from schemas.messages.school import DestinationConfirmationV1, RegistrationStatus
from schemas.registry import MessageSpec, default_registry

SPECS = default_registry().specs()
FAST = settings(max_examples=50, deadline=None, database=None)

seeds = st.integers(min_value=0, max_value=2**32 - 1)
days = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))


def spec_id(spec: MessageSpec) -> str:
    return f"{spec.type}.v{spec.version}"


class Pupil(WireModel):
    upn: Upn


class Patient(WireModel):
    nhs_number: NhsNumber


def _round_trip(payload: WireModel) -> None:
    text = payload.model_dump_json()
    back = type(payload).model_validate_json(text)
    assert back == payload
    assert back.model_dump_json() == text  # the wire form is canonical
    data = payload.model_dump(mode="json")
    assert type(payload).model_validate(data) == payload


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_every_model_round_trips_through_json(spec: MessageSpec) -> None:
    @FAST
    @given(seed=seeds, today=days)
    def check(seed: int, today: date) -> None:
        rng = random.Random(seed)
        _round_trip(example_payload(spec.type, spec.version, rng=rng, today=today))

    check()


@FAST
@given(body=st.from_regex(r"\A[0-9]{11}[0-9A-HJ-NP-RT-Z]\Z"))
def test_any_upn_body_with_its_check_letter_is_valid_and_no_other_letter_is(body: str) -> None:
    letter = upn_check_letter(body)
    assert Pupil(upn=letter + body).upn == letter + body
    other = "A" if letter != "A" else "B"
    with pytest.raises(ValidationError):
        Pupil(upn=other + body)


@FAST
@given(
    first_nine=st.from_regex(r"\A[0-9]{9}\Z"), position=st.integers(0, 9), delta=st.integers(1, 9)
)
def test_any_single_digit_change_breaks_an_nhs_number(
    first_nine: str, position: int, delta: int
) -> None:
    check = nhs_check_digit(first_nine)
    if check is None:
        with pytest.raises(ValidationError):
            Patient(nhs_number=f"{first_nine}{delta}")  # no check digit can be right
        return
    number = f"{first_nine}{check}"
    assert Patient(nhs_number=number).nhs_number == number
    digit = str((int(number[position]) + delta) % 10)
    with pytest.raises(ValidationError):
        Patient(nhs_number=number[:position] + digit + number[position + 1 :])


optional_date = st.none() | days.map(date.isoformat)


@FAST
@given(status=st.sampled_from(list(RegistrationStatus)), start_date=optional_date)
def test_destination_confirmation_start_date_iff_registered(
    status: RegistrationStatus, start_date: str | None
) -> None:
    data: dict[str, Any] = {
        "check_message_id": "6f1c2a4e-2b1d-4c8e-9f00-1234567890ab",
        "status": status.value,
        "start_date": start_date,
    }
    allowed = (status is RegistrationStatus.REGISTERED) == (start_date is not None)
    try:
        payload = DestinationConfirmationV1.model_validate(data)
    except ValidationError:
        assert not allowed
    else:
        assert allowed
        _round_trip(payload)


@FAST
@given(
    status=st.sampled_from(list(CaseStatus)),
    outcome=st.none() | st.sampled_from(["on_roll", "deceased", "left_england"]),
    case_ref=st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_-]{2,47}\Z"),
    note=st.none() | st.text(min_size=1, max_size=50).filter(str.strip),
)
def test_case_status_outcome_iff_closed(
    status: CaseStatus, outcome: str | None, case_ref: str, note: str | None
) -> None:
    data = {"case_ref": case_ref, "status": status.value, "outcome": outcome, "note": note}
    allowed = (status is CaseStatus.CLOSED) == (outcome is not None)
    try:
        payload = CaseStatusV1.model_validate(data)
    except ValidationError:
        assert not allowed
    else:
        assert allowed
        _round_trip(payload)
