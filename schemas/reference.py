"""Reference data shipped with the package (facts copied from `shared/domain/`), loaded lazily.

Nothing is read at import time: each table is read once, on first use.
"""

import csv
from functools import cache
from importlib import resources


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files("schemas.data").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@cache
def current_la_codes() -> frozenset[str]:
    """The 3-digit DfE codes of the current English LAs with education functions (153)."""
    return frozenset(row["la_code_3digit"] for row in _rows("la_codes_england.csv"))


@cache
def la_names() -> dict[str, str]:
    """DfE LA code -> LA name."""
    return {row["la_code_3digit"]: row["la_name"] for row in _rows("la_codes_england.csv")}


@cache
def cme_reason_rows() -> dict[str, str]:
    """CME reason code -> the DfE statistics wording."""
    return {row["code"]: row["reason"] for row in _rows("cme_reasons.csv")}


@cache
def deletion_ground_rows() -> dict[str, dict[str, str]]:
    """Reg 9(1) ground -> its row (wording, joint-enquiry rule, typical CME risk, notes)."""
    return {row["ground"]: row for row in _rows("deletion_grounds.csv")}
