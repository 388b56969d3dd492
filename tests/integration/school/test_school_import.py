"""Importing export files: the same file twice sends nothing twice, bad rows are reported by
line and do not stop the good ones, a lost-pupil CTF needs its ground, and `watch` picks up
each new file once it has settled."""

import csv
import os
from pathlib import Path
from typing import Any

import pytest

from adapters.school.errors import UnreadableFile, WrongSchool
from adapters.school.importer import FileFormat, Importer, ImportReport
from adapters.school.rules import Outcome
from schemas.domain import DeletionGround
from schemas.messages import deletion_return, school
from schemas.messages.deletion_return import DeletionReturnV2
from tests.integration.school.school_world import SchoolWorld
from tests.unit.school_builders import (
    OLD,
    child,
    csv_row,
    csv_text,
    ctf_file,
    ctf_pupil,
    new_pupil,
)


def _importer(world: SchoolWorld) -> Importer:
    return world.app(OLD).importer


def _export(tmp_path: Path, name: str, rows: list[dict[str, str]]) -> Path:
    path = tmp_path / name
    path.write_text(csv_text(rows), encoding="utf-8")
    return path


def test_importing_the_same_file_twice_sends_nothing_twice(
    world: SchoolWorld, tmp_path: Path
) -> None:
    rows = [
        csv_row("new_pupil", 1),
        csv_row("deletion", 2, ground="g"),
        csv_row("attendance", 3, school_days_absent="11", absence_codes="N"),
    ]
    path = _export(tmp_path, "export.csv", rows)
    steps: list[tuple[int, int]] = []
    first = _importer(world).import_file(
        path, progress=lambda done, total: steps.append((done, total))
    )
    assert first.counts() == {"sent": 3, "refused": 0}
    assert steps == [(1, 3), (2, 3), (3, 3)]
    assert not first.seen_before

    again = _importer(world).import_file(path)
    assert again.counts() == {"duplicate": 3, "refused": 0}
    assert again.seen_before
    assert len(world.sent()) == 3

    # A later, cumulative export: only its new row is sent.
    more = _export(
        tmp_path, "export2.csv", [*rows, csv_row("sickness", 4, expected_school_days="30")]
    )
    assert _importer(world).import_file(more).sent == 1
    assert len(world.sent()) == 4


def test_each_bad_row_is_reported_by_line_and_the_good_rows_are_sent(
    world: SchoolWorld, tmp_path: Path
) -> None:
    rows = [
        csv_row("new_pupil", 1),
        csv_row("new_pupil", 2, date_of_birth="2030-01-01"),  # line 3: born after entry
        csv_row("deletion", 3, ground="9(1)(q)"),  # line 4
        csv_row("deletion", 4, ground="a", new_school_laestab="12345"),  # line 5
        csv_row("non_arrival", 5),
    ]
    report = _importer(world).import_file(_export(tmp_path, "mixed.csv", rows))
    assert [(p.line, p.reason) for p in report.problems] == [
        (3, "invalid_field"),
        (4, "unknown_ground"),
        (5, "invalid_field"),
    ]
    assert report.problems[0].detail == "entry_date is before the child's date of birth"
    assert report.problems[2].detail.startswith("new_school_laestab: LAESTAB must be 7 digits")
    assert [line for line, _ in report.results] == [2, 6]
    assert [s.message_type for s in world.sent()] == [school.NEW_PUPIL_RETURN, school.NON_ARRIVAL]


def test_a_file_without_the_required_columns_is_refused_whole(
    world: SchoolWorld, tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("event,forenames\nnew_pupil,Ava\n", encoding="utf-8")
    with pytest.raises(UnreadableFile, match="missing_columns"):
        _importer(world).import_file(path)
    path.write_bytes(b"\xff\xfe not utf-8")
    with pytest.raises(UnreadableFile, match="not_utf8"):
        _importer(world).import_file(path)


def test_a_lost_pupil_ctf_needs_the_ground_then_sends_destination_unknown(
    world: SchoolWorld, tmp_path: Path
) -> None:
    path = tmp_path / "lost.xml"
    path.write_bytes(ctf_file("XXX", "XXXX", ctf_pupil(child(1)), ctf_pupil(child(2))))
    without = _importer(world).import_file(path)
    assert {p.reason for p in without.problems} == {"ground_required"}
    assert world.sent() == []

    report = _importer(world).import_file(path, ground=DeletionGround.G)
    assert report.counts()["sent"] == 2
    returns = world.sent(deletion_return.TYPE)
    assert len(returns) == 2
    payload = returns[0].payload
    assert isinstance(payload, DeletionReturnV2)
    assert payload.destination_known is False
    assert payload.new_school is not None
    assert payload.new_school.school.is_unknown


def test_a_ctf_to_a_named_school_checks_the_destination_first(
    world: SchoolWorld, tmp_path: Path
) -> None:
    path = tmp_path / "to-4001.xml"
    path.write_bytes(ctf_file("330", "4001", ctf_pupil(child(1))))
    report = _importer(world).import_file(path)
    assert [r.outcome for _, r in report.results] == [Outcome.AWAITING_DESTINATION]
    assert [s.message_type for s in world.sent()] == [school.DESTINATION_CHECK]
    other = tmp_path / "other.xml"
    other.write_bytes(ctf_file("330", "4000", ctf_pupil(child(1)), source="4001"))
    with pytest.raises(WrongSchool):
        _importer(world).import_file(other)


def test_watch_picks_up_each_new_file_once_it_has_settled(
    world: SchoolWorld, tmp_path: Path
) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    watcher = world.app(OLD).watcher(drop)
    assert watcher.poll() == []

    first = _export(drop, "export-1.csv", [csv_row("new_pupil", 1)])
    (drop / ".export-2.csv.part").write_text("partial", encoding="utf-8")
    assert watcher.poll() == []  # first sight: the MIS may still be writing it
    (picked,) = watcher.poll()
    assert picked.path == first
    assert picked.report is not None
    assert picked.report.sent == 1
    assert watcher.poll() == []  # never twice

    second = _export(drop, "export-2.csv", [csv_row("new_pupil", 1), csv_row("sickness", 2,
                     expected_school_days="20")])  # fmt: skip
    watcher.poll()
    (picked,) = watcher.poll()
    assert picked.path == second
    assert picked.report is not None
    assert picked.report.counts() == {"duplicate": 1, "sent": 1, "refused": 0}

    # A fresh watcher (a restart) skips files already imported, by their content.
    restarted = world.app(OLD).watcher(drop)
    assert restarted.poll(require_settled=False) == []
    assert len(world.sent()) == 2


def test_watch_reports_a_bad_file_and_looks_again_when_it_changes(
    world: SchoolWorld, tmp_path: Path
) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    path = drop / "broken.csv"
    path.write_text("event\nnew_pupil\n", encoding="utf-8")
    watcher = world.app(OLD).watcher(drop)
    (picked,) = watcher.poll(require_settled=False)
    assert picked.problem is not None
    assert picked.problem.reason == "missing_columns"
    assert watcher.poll(require_settled=False) == []
    path.write_text(csv_text([csv_row("non_arrival", 1)]), encoding="utf-8")
    os.utime(path, ns=(1, 1))  # a different modification time, whatever the clock's grain
    (picked,) = watcher.poll(require_settled=False)
    assert picked.report is not None
    assert picked.report.sent == 1


def test_the_documented_example_imports(world: SchoolWorld, tmp_path: Path) -> None:
    doc = Path(__file__).resolve().parents[3] / "docs" / "school-csv.md"
    example = doc.read_text(encoding="utf-8").split("```csv\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "example.csv"
    path.write_text(example, encoding="utf-8")
    report = _importer(world).import_file(path)
    assert report.problems == []
    assert [r.outcome for _, r in report.results] == [
        Outcome.SENT,
        Outcome.AWAITING_DESTINATION,
        Outcome.SENT,
        Outcome.SENT,
    ]


def test_no_pupil_data_reaches_a_log_line_or_a_row_report(
    world: SchoolWorld, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good, bad = csv_row("deletion", 1, ground="g"), csv_row("new_pupil", 2, nhs_number="9434765918")
    drop = tmp_path / "drop"
    drop.mkdir()
    _export(drop, "export.csv", [good, bad])
    (picked,) = world.app(OLD).watcher(drop).poll(require_settled=False)
    world.app(OLD).adapter.sweep()
    assert picked.report is not None
    reported = " ".join(f"{p.reason} {p.detail}" for p in picked.report.problems)
    captured = capsys.readouterr()
    for row in (good, bad):
        for column in ("forenames", "surname", "upn", "nhs_number", "postcode", "date_of_birth"):
            value = row[column]
            if value:
                assert value not in captured.out + captured.err
                assert value not in reported


def test_one_bad_file_never_stops_the_watcher(world: SchoolWorld, tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    deep = "<Pupil>" + "<Extra>" * 5000 + "</Extra>" * 5000 + "</Pupil>"
    (drop / "1-deep.xml").write_bytes(ctf_file("330", "4001", deep))
    _export(drop, "2-number.csv", [csv_row("sickness", 2, expected_school_days="²")])
    huge = "x" * (csv.field_size_limit() + 1)
    _export(drop, "3-field.csv", [csv_row("non_arrival", 3, school_enquiries=huge),
                                  csv_row("non_arrival", 4)])  # fmt: skip
    _export(drop, "4-good.csv", [csv_row("non_arrival", 5)])

    picked = {p.path.name: p for p in world.app(OLD).watcher(drop).poll(require_settled=False)}

    deep_file = picked["1-deep.xml"]
    assert deep_file.problem is not None
    assert deep_file.problem.reason == "xml_too_deep"
    number = picked["2-number.csv"].report
    assert number is not None
    assert [(p.line, p.reason) for p in number.problems] == [(2, "bad_number")]
    field = picked["3-field.csv"].report
    assert field is not None
    assert field.counts() == {"sent": 1, "refused": 1}
    assert [(p.line, p.reason) for p in field.problems] == [(2, "malformed_csv")]
    good = picked["4-good.csv"].report
    assert good is not None
    assert good.sent == 1


def test_a_file_whose_import_fails_unexpectedly_is_reported_and_the_next_imported(
    world: SchoolWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    importer = _importer(world)
    real = importer.import_bytes

    def failing_on_ctf(data: bytes, fmt: FileFormat, **kwargs: Any) -> ImportReport:
        if fmt == "ctf":
            raise RuntimeError("a bug")
        return real(data, fmt, **kwargs)

    monkeypatch.setattr(importer, "import_bytes", failing_on_ctf)
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "a.xml").write_bytes(ctf_file("330", "4001", ctf_pupil(child(1))))
    _export(drop, "b.csv", [csv_row("non_arrival", 2)])
    watcher = world.app(OLD).watcher(drop)
    first, second = watcher.poll(require_settled=False)
    assert first.problem is not None
    assert first.problem.reason == "import_failed"
    assert second.report is not None
    assert second.report.sent == 1
    assert watcher.poll(require_settled=False) == []  # not tried again until it changes


def test_a_cumulative_export_that_adds_the_upn_sends_nothing_twice(
    world: SchoolWorld, tmp_path: Path
) -> None:
    first = _export(tmp_path, "day-1.csv", [csv_row("new_pupil", 1, upn="")])
    assert _importer(world).import_file(first).sent == 1
    later = _export(tmp_path, "day-2.csv", [csv_row("new_pupil", 1), csv_row("new_pupil", 2)])
    assert _importer(world).import_file(later).counts() == {
        "duplicate": 1,
        "sent": 1,
        "refused": 0,
    }
    assert len(world.sent(school.NEW_PUPIL_RETURN)) == 2


def test_a_ctf_and_the_csv_row_of_the_same_leaver_make_one_return(
    world: SchoolWorld, tmp_path: Path
) -> None:
    ctf = tmp_path / "lost.xml"
    ctf.write_bytes(ctf_file("XXX", "XXXX", ctf_pupil(child(1))))  # with the UPN
    assert _importer(world).import_file(ctf, ground=DeletionGround.G).sent == 1
    row = csv_row("deletion", 1, upn="", ground="g", event_date="2026-10-30")  # without
    report = _importer(world).import_file(_export(tmp_path, "leavers.csv", [row]))
    assert report.counts() == {"duplicate": 1, "refused": 0}
    assert len(world.sent(deletion_return.TYPE)) == 1


def test_pupils_alike_in_name_and_birthday_but_not_in_upn_are_two_events(
    world: SchoolWorld,
) -> None:
    adapter = world.app(OLD).adapter
    one = new_pupil(6)
    other = one.model_copy(update={"child": one.child.model_copy(update={"upn": "R201100018042"})})
    assert adapter.submit(one).outcome is Outcome.SENT
    assert adapter.submit(other).outcome is Outcome.SENT  # a return too many beats one lost
    assert adapter.submit(other).outcome is Outcome.DUPLICATE
