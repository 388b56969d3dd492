"""`cme-broker cases ...`: the CME team's command line over a desk holding a real case."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.cli import app
from schemas.domain import DeletionGround
from tests.clock import Clock
from tests.integration.la.desk_world import SCHOOL, DeskWorld
from tests.unit.la.desk_builders import deletion_return

runner = CliRunner()


@pytest.fixture
def case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str, str]:
    """A data directory whose desk holds one case; its ref and the child's surname."""
    monkeypatch.delenv("CME_DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    world = DeskWorld(tmp_path, f"sqlite:///{(tmp_path / 'cme.db').resolve()}", Clock())
    message = deletion_return(DeletionGround.G)
    world.deliver(SCHOOL, "school.deletion_return", message)
    (summary,) = world.desk.register.list_cases()
    return tmp_path, summary.case_ref, message.child.surname


def cli(data: Path, *args: str, status: int = 0) -> str:
    result = runner.invoke(app, ["--data-dir", str(data), "cases", *args])
    output = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert result.exit_code == status, output
    return output


def test_list_show_close_refused_close_and_reopen(case: tuple[Path, str, str]) -> None:
    data, ref, surname = case
    listing = cli(data, "list")
    assert ref in listing
    assert "1 case(s)" in listing
    assert surname not in listing  # the tracking list shows no personal data
    assert surname in cli(data, "show", ref)  # the case view is for the person working it
    assert "0 case(s)" in cli(data, "list", "--priority", "low")
    refused = cli(data, "close", ref, "--outcome", "on_roll", "--evidence", "school=3304001",
                  "--why", "Seen at school.", status=2)  # fmt: skip
    assert "on_roll_needs_start_date" in refused
    unknown = cli(data, "close", ref, "--outcome", "on_roll", "--evidence", "colour=blue",
                  "--why", "x", status=2)  # fmt: skip
    assert "evidence_invalid" in unknown
    assert "colour" in unknown
    evidence = ("--evidence", "school=3304001", "--evidence", "start_date=2026-11-02")
    cli(
        data,
        "close",
        ref,
        "--outcome",
        "on_roll",
        *evidence,
        "--why",
        "Started.",
        "--by",
        "user:cme1",
    )
    assert "0 case(s)" in cli(data, "list")
    assert "closed" in cli(data, "list", "--all")
    cli(data, "reopen", ref, "--why", "The school says the child never arrived.")
    shown = cli(data, "show", ref)
    assert "reopened" in shown
    assert "user:cme1" in shown


def test_sweep_and_overdue(case: tuple[Path, str, str]) -> None:
    data, ref, _ = case
    # The case was opened on 2 November 2026 (the test clock); its enquiries were due on the
    # 9th, so a sweep as of the 10th chases all three.
    assert "chased 3" in cli(data, "sweep", "--on", "2026-11-10")
    assert ref in cli(data, "list", "--overdue")
    assert "case_not_found" in cli(data, "show", "CME-330-2026-999999", status=2)


def test_termly_report_writes_files_without_personal_data(
    case: tuple[Path, str, str], tmp_path: Path
) -> None:
    data, _, surname = case
    out = tmp_path / "report"
    result = runner.invoke(app, ["--data-dir", str(data), "report", "termly",
                                 "--term", "2026-autumn", "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "opened 1" in result.output
    names = {p.suffix for p in out.iterdir()}
    assert names == {".json", ".csv", ".png"}
    for path in out.iterdir():
        assert surname.encode() not in path.read_bytes()
    bad = runner.invoke(app, ["--data-dir", str(data), "report", "termly",
                              "--term", "2026-winter", "--out", str(out)])  # fmt: skip
    assert bad.exit_code == 2
