"""Writing a termly report: JSON (the whole report), one CSV per table, and PNG charts.

Files, for term `2026-autumn` (`<t>`):

* `termly-<t>.json`: `TermReport` as JSON (`TermReport.model_validate_json` reads it back);
* `termly-<t>-summary.csv`: long format, `term,metric,value` (dates, headline counts, time
  to locate);
* `termly-<t>-by_reason.csv`, `-by_duration.csv`, `-by_risk_flag.csv`, `-by_outcome.csv`,
  `-enquiry_sla_by_agency.csv`: one row per category, its code and words, then the counts;
* `termly-<t>-by_reason.png`, `-by_duration.png`, `-by_risk_flag.png`,
  `-enquiry_sla_by_agency.png`.

Every CSV starts with a `term` column so several terms' files concatenate into one table.
An empty cell is a figure that does not exist yet (the census day is still ahead) or cannot
exist (no enquiry due, no case located). UTF-8, comma-separated, header row first.
"""

import csv
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Final

from adapters.la.reporting.charts import CHARTS
from adapters.la.reporting.figures import TermReport
from adapters.la.reporting.labels import (
    NO_RISK_FLAG,
    outcome_label,
    reason_label,
    risk_flag_label,
)

Progress = Callable[[str], None]
Cell = str | int | float | bool | date | None
Table = tuple[Sequence[str], Sequence[Sequence[Cell]]]

_COHORTS: Final = ("open_on_census_day", "ever_open", "opened", "closed")


def _cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _summary(report: TermReport) -> Table:
    dates: list[tuple[str, Cell]] = [
        ("start", report.start),
        ("end", report.end),
        ("census_day", report.census_day),
        ("as_of", report.as_of),
        ("made_on", report.made_on),
        ("complete", report.complete),
    ]
    counts = list(report.summary.model_dump().items())
    located = [
        (f"time_to_locate_{name}", value)
        for name, value in report.time_to_locate.model_dump().items()
    ]
    return ("term", "metric", "value"), [
        (str(report.term), name, value) for name, value in (*dates, *counts, *located)
    ]


def _by_reason(report: TermReport) -> Table:
    t = str(report.term)
    return ("term", "reason", "reason_label", *_COHORTS), [
        (t, r.reason.value, reason_label(r.reason), *(getattr(r, c) for c in _COHORTS))
        for r in report.by_reason
    ]


def _by_risk_flag(report: TermReport) -> Table:
    t = str(report.term)
    return ("term", "risk_flag", "risk_flag_label", *_COHORTS), [
        (
            t,
            r.risk_flag.value if r.risk_flag else NO_RISK_FLAG,
            risk_flag_label(r.risk_flag),
            *(getattr(r, c) for c in _COHORTS),
        )
        for r in report.by_risk_flag
    ]


def _by_duration(report: TermReport) -> Table:
    t = str(report.term)
    counts = ("open_on_census_day", "closed", "open_at_end")
    return ("term", "band", "band_label", "from_days", *counts), [
        (t, r.band.value, r.band.label, r.band.from_days, *(getattr(r, c) for c in counts))
        for r in report.by_duration
    ]


def _by_outcome(report: TermReport) -> Table:
    t = str(report.term)
    return ("term", "outcome", "outcome_label", "closed"), [
        (t, r.outcome.value, outcome_label(r.outcome), r.closed) for r in report.by_outcome
    ]


def _enquiry_sla(report: TermReport) -> Table:
    t = str(report.term)
    header = ("term", "agency_id", "on_time", "late", "overdue", "pending", "compliance_pct")
    return header, [
        (t, r.agency_id, r.on_time, r.late, r.overdue, r.pending, r.compliance_pct)
        for r in report.enquiry_sla
    ]


TABLES: Final[tuple[tuple[str, Callable[[TermReport], Table]], ...]] = (
    ("summary", _summary),
    ("by_reason", _by_reason),
    ("by_duration", _by_duration),
    ("by_risk_flag", _by_risk_flag),
    ("by_outcome", _by_outcome),
    ("enquiry_sla_by_agency", _enquiry_sla),
)
"""Each CSV's file-name part and the function that lays it out."""


def _write_csv(path: Path, table: Table) -> None:
    header, rows = table
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows([_cell(value) for value in row] for row in rows)


def write_report(
    report: TermReport, out_dir: Path, *, progress: Progress | None = None
) -> list[Path]:
    """Write the report's JSON, CSVs and PNG charts into `out_dir` (created if missing,
    same-named files replaced); returns the paths written, in order. `progress` is told
    each file's name once it is written (a CLI shows it; charts take a moment each)."""
    tell = progress or (lambda _message: None)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"termly-{report.term}"
    written: list[Path] = []

    def done(path: Path) -> None:
        written.append(path)
        tell(f"wrote {path.name}")

    json_path = out_dir / f"{stem}.json"
    json_path.write_text(report.model_dump_json(indent=2) + "\n", encoding="utf-8")
    done(json_path)
    for name, lay_out in TABLES:
        path = out_dir / f"{stem}-{name}.csv"
        _write_csv(path, lay_out(report))
        done(path)
    for name, draw in CHARTS:
        path = out_dir / f"{stem}-{name}.png"
        draw(report, path)
        done(path)
    return written
