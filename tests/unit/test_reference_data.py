"""The shipped reference data and the enums that mirror it stay in step."""

import csv
from importlib import resources
from pathlib import Path

import pytest

from schemas.domain import CmeReason, DeletionGround
from schemas.reference import (
    cme_reason_rows,
    current_la_codes,
    deletion_ground_rows,
    la_names,
)

SHARED_DOMAIN = Path("/work/shared/domain")  # the team's fact base, outside the repository
CSV_FILES = ("la_codes_england.csv", "deletion_grounds.csv", "cme_reasons.csv")


def shipped_text(name: str) -> str:
    return resources.files("schemas.data").joinpath(name).read_text(encoding="utf-8")


def shipped_rows(name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(shipped_text(name).splitlines()))


def test_deletion_ground_enum_matches_the_csv_in_order() -> None:
    grounds = [row["ground"] for row in shipped_rows("deletion_grounds.csv")]
    assert [g.value for g in DeletionGround] == grounds
    assert len(grounds) == 15


def test_joint_enquiry_grounds_match_the_csv() -> None:
    for ground, row in deletion_ground_rows().items():
        expected = row["la_joint_enquiry_required"] == "yes"
        assert DeletionGround(ground).needs_joint_enquiries is expected


def test_cme_reason_enum_matches_the_csv_in_order() -> None:
    codes = [row["code"] for row in shipped_rows("cme_reasons.csv")]
    assert [r.value for r in CmeReason] == codes
    assert set(cme_reason_rows()) == set(codes)
    assert all(cme_reason_rows().values())


def test_153_current_las_with_unique_codes_and_names() -> None:
    rows = shipped_rows("la_codes_england.csv")
    assert len(rows) == 153
    codes = [row["la_code_3digit"] for row in rows]
    assert len(set(codes)) == 153
    assert current_la_codes() == frozenset(codes)
    assert all(code.isdigit() and len(code) == 3 for code in codes)
    assert all(row["gss_code"].startswith("E") and len(row["gss_code"]) == 9 for row in rows)
    assert la_names()["330"] == "Birmingham"
    assert la_names()["331"] == "Coventry"


@pytest.mark.parametrize("superseded", ["835", "836", "837", "909", "928"])
def test_superseded_la_codes_are_not_current(superseded: str) -> None:
    assert superseded not in current_la_codes()


def test_no_welsh_la_codes() -> None:
    assert not {str(code) for code in range(660, 682)} & current_la_codes()


@pytest.mark.parametrize("name", CSV_FILES)
def test_shipped_csv_equals_the_shared_fact_base(name: str) -> None:
    source = SHARED_DOMAIN / name
    if not source.is_file():
        pytest.skip("shared/domain is not available outside the team workspace")
    assert shipped_text(name) == source.read_text(encoding="utf-8")
