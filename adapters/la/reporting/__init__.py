"""The termly CME analysis for senior leaders and safeguarding partners.

`termly_report(engine, Term.parse("2026-autumn"))` computes every figure from the register's
codes, dates and agency ids (nothing is decrypted; the report holds no personal data), and
`write_report(report, out_dir)` writes it as JSON, CSV tables and PNG charts.

Modules: `terms` (term ids, dates, census days), `reading` (the three queries), `compute`
(the definitions of every figure), `figures` (the report model, duration bands), `output`
(files), `charts` (PNGs), `labels` (words beside codes).
"""

from adapters.la.reporting.compute import LOCATED, termly_report
from adapters.la.reporting.figures import (
    AgencySla,
    Cohorts,
    DurationBand,
    DurationRow,
    OutcomeRow,
    ReasonRow,
    RiskFlagRow,
    Summary,
    TermReport,
    TimeToLocate,
    band_for,
)
from adapters.la.reporting.output import Progress, write_report
from adapters.la.reporting.terms import ReportError, Term, TermError, TermSeason

__all__ = [
    "LOCATED",
    "AgencySla",
    "Cohorts",
    "DurationBand",
    "DurationRow",
    "OutcomeRow",
    "Progress",
    "ReasonRow",
    "ReportError",
    "RiskFlagRow",
    "Summary",
    "Term",
    "TermError",
    "TermReport",
    "TermSeason",
    "TimeToLocate",
    "band_for",
    "termly_report",
    "write_report",
]
