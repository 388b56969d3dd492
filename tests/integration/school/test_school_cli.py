"""`school import`, `school watch --once`, `school deletions`: the typer app the lead registers
as `cme-broker school ...`, on a data directory whose directory knows the school and its LA."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.school.cli import school_app
from broker.cli.context import set_data_dir
from tests.clock import Clock
from tests.integration.school.school_world import SchoolWorld
from tests.unit.school_builders import OLD, csv_row, csv_text

runner = CliRunner()


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A data directory with LA 330 and its schools registered; no reachable hub."""
    monkeypatch.delenv("CME_DATABASE_URL", raising=False)
    monkeypatch.setenv("CME_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:1/")
    monkeypatch.setenv("COLUMNS", "200")
    SchoolWorld(tmp_path, f"sqlite:///{(tmp_path / 'cme.db').resolve()}", Clock())
    set_data_dir(tmp_path)
    yield tmp_path
    set_data_dir(None)


def cli(*args: str, status: int = 0) -> str:
    result = runner.invoke(school_app, list(args))
    output = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert result.exit_code == status, output
    return output


def test_import_twice_sends_once_and_lists_bad_rows_by_line(data: Path) -> None:
    export = data / "export.csv"
    rows = [csv_row("deletion", 1, ground="i"), csv_row("deletion", 2, ground="zz")]
    export.write_text(csv_text(rows), encoding="utf-8")
    first = cli("import", str(export), "--as", OLD, "--no-publish", status=1)
    assert "2 row(s): refused 1, sent 1" in first
    assert "unknown_ground" in first
    assert "│ 3 " in first  # the bad row's line number
    again = cli("import", str(export), "--as", OLD, "--no-publish", status=1)
    assert "duplicate 1" in again
    listing = cli("deletions", "--as", OLD)
    assert "held_for_enquiries" in listing
    assert "1 deletion(s)" in listing


def test_watch_once_imports_the_drop_and_keeps_unpublished_messages_staged(data: Path) -> None:
    drop = data / "drop"
    drop.mkdir()
    (drop / "export.csv").write_text(csv_text([csv_row("non_arrival", 1)]), encoding="utf-8")
    output = cli("watch", str(drop), "--as", OLD, "--once")
    assert "1 new file(s)" in output
    assert "not published yet" in output  # no hub: the outbox keeps them for `school run`
    assert "0 new file(s)" in cli("watch", str(drop), "--as", OLD, "--once")


def test_refusals_name_the_reason(data: Path) -> None:
    ctf = data / "other.xml"
    ctf.write_text("<CTfile><Header><SourceSchool><LEA>330</LEA><Estab>4001</Estab>"
                   "</SourceSchool></Header></CTfile>", encoding="utf-8")  # fmt: skip
    assert "ctf_not_from_this_school" in cli("import", str(ctf), "--as", OLD, status=2)
    assert "invalid_school_id" in cli("deletions", "--as", "la:330", status=2)
