"""Which LA's area a postcode is in: the longest whole-part prefix wins."""

from pathlib import Path

import pytest

from adapters.la.areas import PostcodeAreas
from adapters.la.errors import InvalidInput


def table(tmp_path: Path, text: str) -> PostcodeAreas:
    path = tmp_path / "areas.csv"
    path.write_text(text, encoding="utf-8")
    return PostcodeAreas.from_csv(path)


@pytest.mark.parametrize(
    ("postcode", "code"),
    [
        ("ZZ99 3QF", "330"),  # district
        ("zz99  3qf", "330"),  # case and spacing do not matter
        ("ZZ99 7AB", "331"),  # the sector row is longer than the district row
        ("ZZ991 1AA", None),  # ZZ99 must not match district ZZ991
        ("ZZ98 1AA", None),
    ],
)
def test_longest_prefix_at_a_whole_part(tmp_path: Path, postcode: str, code: str | None) -> None:
    areas = table(tmp_path, "prefix,la_code\nZZ99,330\nZZ99 7,331\n")
    assert areas.la_code(postcode) == code


def test_a_bad_header_or_an_unknown_la_code_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as header:
        table(tmp_path, "district,code\nZZ99,330\n")
    assert header.value.reason == "areas_file_header"
    with pytest.raises(InvalidInput) as code:
        table(tmp_path, "prefix,la_code\nZZ99,999\n")
    assert code.value.reason == "areas_file_la_code"
