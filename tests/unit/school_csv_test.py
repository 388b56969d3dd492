"""The documented CSV export: good rows become events, bad rows are reported by line number
with a reason, and never with the value that was refused."""

import csv
from datetime import date

import pytest

from adapters.school.csv_format import read_csv
from adapters.school.errors import UnreadableFile
from adapters.school.events import Absence, Leaver, NewPupil, NonArrival, Sickness
from adapters.school.rows import ParsedRow, RowProblem
from schemas.domain import DeletionGround
from tests.unit.school_builders import TODAY, child, csv_row, csv_text


def _parsed(text: str) -> list[ParsedRow | RowProblem]:
    return list(read_csv(text))


def test_each_kind_of_row_becomes_its_event() -> None:
    rows = [
        csv_row("new_pupil", 1, event_id="MIS-1"),
        csv_row("deletion", 2, ground="9(1)(g)", new_school_laestab="3304001"),
        csv_row("non_arrival", 3),
        csv_row(
            "attendance", 4, school_days_absent="12", absence_codes="G;N", whereabouts_known="N"
        ),
        csv_row("sickness", 5, expected_school_days="20"),
    ]
    parsed = _parsed(csv_text(rows))
    assert all(isinstance(p, ParsedRow) for p in parsed)
    events = [p.event for p in parsed if isinstance(p, ParsedRow)]
    assert [type(e) for e in events] == [NewPupil, Leaver, NonArrival, Absence, Sickness]
    assert [p.line for p in parsed if isinstance(p, ParsedRow)] == [2, 3, 4, 5, 6]
    first = parsed[0]
    assert isinstance(first, ParsedRow)
    assert first.event_id == "MIS-1"
    assert events[0].child == child(1).model_copy(update={"consistent_identifier": None})
    leaver = events[1]
    assert isinstance(leaver, Leaver)
    assert leaver.ground is DeletionGround.G
    assert leaver.named_school is not None
    assert leaver.named_school.laestab == "3304001"
    assert leaver.parents[0].address == leaver.child.addresses[0]  # lives with the pupil
    absence = events[3]
    assert isinstance(absence, Absence)
    assert absence.absence_codes == ("G", "N")


@pytest.mark.parametrize("ground", ["9(1)(h)", "h", "H", "(h)", "9(1) (h)"])
def test_a_ground_is_written_in_full_or_by_its_letter(ground: str) -> None:
    (parsed,) = _parsed(csv_text([csv_row("deletion", ground=ground)]))
    assert isinstance(parsed, ParsedRow)
    assert isinstance(parsed.event, Leaver)
    assert parsed.event.ground is DeletionGround.H


def test_uk_dates_and_a_byte_order_mark_are_accepted() -> None:
    row = csv_row("new_pupil", event_date="02/11/2026", date_of_birth="09/03/2016")
    (parsed,) = _parsed("\ufeff" + csv_text([row]))
    assert isinstance(parsed, ParsedRow)
    assert isinstance(parsed.event, NewPupil)
    assert parsed.event.entry_date == TODAY
    assert parsed.event.child.date_of_birth == date(2016, 3, 9)


def test_column_names_ignore_case_spaces_and_unknown_columns() -> None:
    text = csv_text([csv_row("sickness", expected_school_days="20", house="Kestrel")])
    header, rest = text.split("\n", 1)
    header = header.replace("date_of_birth", "Date of Birth").replace("event_date", "EVENT-DATE")
    (parsed,) = _parsed(header + "\n" + rest)
    assert isinstance(parsed, ParsedRow)


def test_bad_rows_are_reported_by_line_with_a_reason_and_good_rows_still_parse() -> None:
    bad_upn = csv_row("new_pupil", 2)
    bad_upn["upn"] = ("A" if bad_upn["upn"][0] != "A" else "B") + bad_upn["upn"][1:]
    rows = [
        csv_row("new_pupil", 1),  # line 2: good
        bad_upn,  # line 3: check letter
        csv_row("new_pupil", 3, event_date="31/02/2026"),  # line 4: no such date
        csv_row("deletion", 4, ground="9(1)(z)"),  # line 5
        csv_row("new_pupil", 5, year_group=""),  # line 6: required for a new pupil
        csv_row("transfer", 6),  # line 7: unknown event
        csv_row("attendance", 7, school_days_absent="ten", absence_codes="G"),  # line 8
        csv_row("attendance", 8, school_days_absent="12", absence_codes="G;C"),  # line 9
        csv_row("deletion", 9, ground="g", nhs_number="9434765918"),  # line 10: mod 11
        csv_row("sickness", 10, expected_school_days="20"),  # line 11: good
    ]
    parsed = _parsed(csv_text(rows))
    problems = {p.line: p for p in parsed if isinstance(p, RowProblem)}
    good = [p.line for p in parsed if isinstance(p, ParsedRow)]
    assert good == [2, 11]
    assert {line: p.reason for line, p in problems.items()} == {
        3: "invalid_field",
        4: "bad_date",
        5: "unknown_ground",
        6: "missing_value",
        7: "unknown_event",
        8: "bad_number",
        9: "invalid_field",
        10: "invalid_field",
    }
    assert problems[3].detail == "upn: UPN check letter does not match"
    assert problems[4].detail.startswith("event_date:")
    assert problems[10].detail == "nhs_number: NHS number fails the modulus 11 check"
    assert problems[9].detail.startswith("absence_codes")
    for problem in problems.values():  # reasons and columns, never the refused values
        assert bad_upn["upn"] not in problem.detail
        assert "9434765918" not in problem.detail


def test_a_quoted_multi_line_cell_keeps_the_next_rows_line_numbers_right() -> None:
    first = csv_row("non_arrival", 1, school_enquiries="Home visit made.\nNo answer.")
    second = csv_row("deletion", 2, ground="x")
    parsed = _parsed(csv_text([first, second]))
    assert isinstance(parsed[0], ParsedRow)
    assert isinstance(parsed[1], RowProblem)
    assert parsed[1].line == 4


def test_blank_lines_are_skipped() -> None:
    text = csv_text([csv_row("sickness", expected_school_days="20")]) + ",,,\n\n"
    assert len(_parsed(text)) == 1


def test_a_header_without_the_required_columns_refuses_the_file() -> None:
    with pytest.raises(UnreadableFile) as caught:
        _parsed("event,forenames\nnew_pupil,Ava\n")
    assert caught.value.reason == "missing_columns"
    assert "surname" in str(caught.value)
    with pytest.raises(UnreadableFile):
        _parsed("")


@pytest.mark.parametrize("count", ["²", "1²", "٣x", "9" * 5000])
def test_a_number_python_cannot_read_is_a_bad_row_not_a_crash(count: str) -> None:
    # "²".isdigit() is True, yet int("²") raises: the row is refused, the next one parsed.
    rows = [
        csv_row("sickness", 1, expected_school_days=count),
        csv_row("sickness", 2, expected_school_days="20"),
    ]
    bad, good = _parsed(csv_text(rows))
    assert isinstance(bad, RowProblem)
    assert (bad.line, bad.reason) == (2, "bad_number")
    assert bad.detail == "expected_school_days: not a whole number"
    assert isinstance(good, ParsedRow)


def test_a_record_the_csv_module_cannot_read_is_a_bad_row_and_the_rest_still_parse() -> None:
    huge = "x" * (csv.field_size_limit() + 1)  # over the csv module's field limit
    rows = [
        csv_row("sickness", 1, expected_school_days="20"),
        csv_row("non_arrival", 2, school_enquiries=huge),
        csv_row("sickness", 3, expected_school_days="20"),
    ]
    first, bad, last = _parsed(csv_text(rows))
    assert isinstance(first, ParsedRow)
    assert isinstance(bad, RowProblem)
    assert (bad.line, bad.reason) == (3, "malformed_csv")
    assert huge[:20] not in bad.detail
    assert isinstance(last, ParsedRow)
    assert last.line == 4


def test_an_unclosed_quote_never_raises_out_of_the_reader() -> None:
    row = csv_text([csv_row("sickness", 1, expected_school_days="20")]).split("\n")[1]
    text = csv_text([]) + row.replace(",", ',"', 1) + "\n" + "y\n" * 70_000
    parsed = _parsed(text)
    assert isinstance(parsed[0], RowProblem)
    assert parsed[0].reason == "malformed_csv"


def test_a_header_the_csv_module_cannot_read_refuses_the_file() -> None:
    with pytest.raises(UnreadableFile) as caught:
        _parsed("event," + "x" * (csv.field_size_limit() + 1) + "\n")
    assert caught.value.reason == "malformed_csv"
