"""Identifier types: published test vectors, per-kind agency ids, and errors that never echo."""

import pytest
from pydantic import ValidationError

from schemas.agency import AgencyId, AgencyKind, LaId, SchoolId, code_of, kind_of
from schemas.base import WireModel
from schemas.identifiers import (
    DestinationLaestab,
    LaCode,
    Laestab,
    NhsNumber,
    OdsCode,
    Postcode,
    Upn,
    Urn,
    nhs_check_digit,
    upn_check_letter,
)
from schemas.reference import current_la_codes


class Ids(WireModel):
    """One optional field per identifier type, so each validates as it does inside a message."""

    upn: Upn | None = None
    nhs: NhsNumber | None = None
    la: LaCode | None = None
    laestab: Laestab | None = None
    destination: DestinationLaestab | None = None
    urn: Urn | None = None
    ods: OdsCode | None = None
    postcode: Postcode | None = None
    agency: AgencyId | None = None
    school: SchoolId | None = None
    la_agency: LaId | None = None


def valid(field: str, value: str) -> object:
    return getattr(Ids.model_validate({field: value}), field)


def refused(field: str, value: str) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        Ids.model_validate({field: value})
    return caught.value


# UPN


def test_upn_published_vectors() -> None:
    assert upn_check_letter("201100018042") == "R"
    assert upn_check_letter("20110001804V") == "T"
    assert valid("upn", "R201100018042") == "R201100018042"
    assert valid("upn", "T20110001804V") == "T20110001804V"
    assert valid("upn", "B801200005001") == "B801200005001"
    refused("upn", "A801200005001")


@pytest.mark.parametrize("old_la", ["835", "836", "837", "909", "928"])
def test_upn_from_a_superseded_la_is_still_valid(old_la: str) -> None:
    assert old_la not in current_la_codes()
    body = f"{old_la}4001" + "09" + "123"
    assert valid("upn", upn_check_letter(body) + body) == upn_check_letter(body) + body


def test_upn_is_normalised_to_capitals() -> None:
    assert valid("upn", "r201100018042") == "R201100018042"


@pytest.mark.parametrize(
    "value",
    [
        "R20110001804",  # 12 characters
        "R2011000180422",  # 14 characters
        "2201100018042",  # no check letter
        "R2011000180A2",  # letter before the last place
        "R20110001804I",  # I is never used
        "R20110001804O",
        "R20110001804S",
    ],
)
def test_upn_malformed(value: str) -> None:
    refused("upn", value)


@pytest.mark.parametrize("letter", [c for c in "ABCDEFGHJKLMNPQRTUVWXYZ" if c != "R"])
def test_upn_every_other_check_letter_is_refused(letter: str) -> None:
    refused("upn", letter + "201100018042")


def test_upn_check_letter_refuses_a_bad_body() -> None:
    with pytest.raises(ValueError, match="12 characters"):
        upn_check_letter("2011")
    with pytest.raises(ValueError, match="11 digits"):
        upn_check_letter("20110001804I")


# NHS number


@pytest.mark.parametrize("number", ["9000000009", "9434765919"])
def test_nhs_published_vectors_and_every_single_digit_change(number: str) -> None:
    assert valid("nhs", number) == number
    for position in range(10):
        for digit in "0123456789":
            if digit == number[position]:
                continue
            changed = number[:position] + digit + number[position + 1 :]
            refused("nhs", changed)


def test_nhs_accepts_spaces_and_hyphens_and_stores_digits() -> None:
    assert valid("nhs", "943 476 5919") == "9434765919"
    assert valid("nhs", "943-476-5919") == "9434765919"


def test_nhs_check_digit_edges() -> None:
    assert nhs_check_digit("000000000") == 0  # remainder 0: 11 - 0 = 11, which becomes 0
    assert nhs_check_digit("000000005") == 1  # 5 x 2 = 10: remainder 10, check 1
    assert nhs_check_digit("000000006") is None  # 6 x 2 = 12: remainder 1, check 10: invalid


@pytest.mark.parametrize("value", ["943476591", "94347659190", "943476591X", ""])
def test_nhs_malformed(value: str) -> None:
    refused("nhs", value)


# Organisations


def test_there_are_153_current_las() -> None:
    assert len(current_la_codes()) == 153


@pytest.mark.parametrize("code", ["330", "201", "938"])
def test_la_code_current(code: str) -> None:
    assert valid("la", code) == code


@pytest.mark.parametrize("code", ["835", "999", "660", "33", "3300", "abc"])
def test_la_code_not_current_or_malformed(code: str) -> None:
    refused("la", code)


def test_laestab() -> None:
    assert valid("laestab", "3304000") == "3304000"
    for bad in ("8354000", "330400", "33040001", "XXXXXXX", "330400A"):
        refused("laestab", bad)


def test_destination_laestab_allows_the_lost_pupil_convention() -> None:
    assert valid("destination", "XXXXXXX") == "XXXXXXX"
    assert valid("destination", "3304000") == "3304000"
    refused("destination", "XXXX")
    refused("destination", "9994000")


@pytest.mark.parametrize(("value", "ok"), [("123456", True), ("12345", False), ("1234567", False)])
def test_urn(value: str, ok: bool) -> None:
    if ok:
        assert valid("urn", value) == value
    else:
        refused("urn", value)


@pytest.mark.parametrize(("value", "ok"), [("M85001", True), ("RRK", True), ("m85001", False)])
def test_ods_code(value: str, ok: bool) -> None:
    if ok:
        assert valid("ods", value) == value
    else:
        refused("ods", value)


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        ("B1 1AA", "B1 1AA"),
        ("b1 1aa", "B1 1AA"),
        ("SW1A1AA", "SW1A 1AA"),
        (" m1 1ae ", "M1 1AE"),
        ("ZZ99 3AB", "ZZ99 3AB"),
        ("EC1A 1BB", "EC1A 1BB"),
    ],
)
def test_postcode_normalised(value: str, normalised: str) -> None:
    assert valid("postcode", value) == normalised


@pytest.mark.parametrize("value", ["12345", "B1", "B1 1A", "BBB1 1AA", "B1 1AAA"])
def test_postcode_malformed(value: str) -> None:
    refused("postcode", value)


# Agency ids


@pytest.mark.parametrize(
    ("agency", "kind"),
    [
        ("la:330", AgencyKind.LA),
        ("school:3304000", AgencyKind.SCHOOL),
        ("health:M85001", AgencyKind.HEALTH),
        ("housing:330-ta", AgencyKind.HOUSING),
        ("housing:LH4231", AgencyKind.HOUSING),
        ("social_care:330", AgencyKind.SOCIAL_CARE),
        ("police:20", AgencyKind.POLICE),
        ("early_years:EY123456", AgencyKind.EARLY_YEARS),
        ("early_years:330-nursery-1", AgencyKind.EARLY_YEARS),
        ("hub:330", AgencyKind.HUB),
    ],
)
def test_agency_id_valid_per_kind(agency: str, kind: AgencyKind) -> None:
    assert valid("agency", agency) == agency
    assert kind_of(agency) is kind
    assert code_of(agency) == agency.partition(":")[2]


@pytest.mark.parametrize(
    "agency",
    [
        "la:835",  # superseded LA code
        "la:3300",
        "school:330400",
        "school:8354000",
        "health:m85001",
        "housing:835-ta",
        "housing:330_ta",
        "social_care:999",
        "police:200",
        "early_years:EY12",
        "hub:999",
        "gp:M85001",  # unknown kind
        "la330",
        "la:",
        ":330",
    ],
)
def test_agency_id_invalid(agency: str) -> None:
    refused("agency", agency)


def test_kind_restricted_agency_ids() -> None:
    assert valid("school", "school:3304000") == "school:3304000"
    assert "of kind school" in str(refused("school", "la:330"))
    assert valid("la_agency", "la:330") == "la:330"
    assert "of kind la" in str(refused("la_agency", "social_care:330"))
    refused("la_agency", "la:835")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("upn", "A801200005001"),
        ("nhs", "9434765918"),
        ("la", "835"),
        ("laestab", "8354000"),
        ("postcode", "QQ123456"),
        ("agency", "school:8354000"),
        ("school", "la:330"),
    ],
)
def test_errors_never_echo_the_value(field: str, value: str) -> None:
    error = refused(field, value)
    assert value not in str(error)
    assert value not in repr(error)
