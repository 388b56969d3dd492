"""The report's charts as PNG files for people: each titled with the term, axes labelled,
every bar labelled with its count, in a colour-blind-safe palette (Okabe-Ito).

Drawn on matplotlib's Agg canvas directly (`Figure` + `FigureCanvasAgg`), never through
`pyplot`: no display is needed, no global backend is switched for the rest of the process,
and no figure lingers in pyplot's registry after a long run.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Final

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from adapters.la.reporting.figures import Cohorts, TermReport
from adapters.la.reporting.labels import reason_label, risk_flag_label

BLUE: Final = "#0072B2"
ORANGE: Final = "#E69F00"
GREEN: Final = "#009E73"
VERMILLION: Final = "#D55E00"
GREY: Final = "#999999"
_DPI: Final = 120


@dataclass(frozen=True, slots=True)
class Series:
    """One set of bars: its legend name, a value per category, its colour."""

    name: str
    values: Sequence[int]
    colour: str


def _canvas(width: float, height: float) -> tuple[Figure, Axes]:
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)  # attaches itself: savefig renders with Agg
    return figure, figure.subplots()


def _day(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def _title(figure: Figure, what: str, report: TermReport, when: str | None = None) -> None:
    # A figure title, not an axes title: long category labels push the axes right, and an
    # axes title centred over them would run off the image.
    ahead = " (still ahead)" if report.summary.open_on_census_day is None else ""
    census = f"census day {_day(report.census_day)}{ahead}"
    when = when or f"{census}, counted to {_day(report.as_of)}"
    figure.suptitle(f"{what}\n{report.term.label} ({report.term}): {when}", fontsize=11)


def _legend(figure: Figure, series: int) -> None:
    # Below the plot, never over a bar or its count.
    figure.legend(loc="outside lower center", ncols=series, fontsize=8, frameon=False)


def _nothing(axes: Axes, message: str) -> None:
    axes.text(0.5, 0.5, message, ha="center", va="center", transform=axes.transAxes)
    axes.set_xticks([])
    axes.set_yticks([])


def _height(rows: int, series: int) -> float:
    return max(3.5, 1.8 + 0.28 * rows * series)


def _horizontal_groups(axes: Axes, labels: Sequence[str], series: Sequence[Series]) -> None:
    """Grouped horizontal bars, first category at the top, a count at each bar's end."""
    thickness = 0.8 / len(series)
    for i, one in enumerate(series):
        offsets = [row - 0.4 + thickness * (i + 0.5) for row in range(len(labels))]
        bars = axes.barh(offsets, one.values, height=thickness, label=one.name, color=one.colour)
        axes.bar_label(bars, padding=2, fontsize=8)
    axes.set_yticks(range(len(labels)), labels)
    axes.invert_yaxis()
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.margins(x=0.1)


def _cohort_series(report: TermReport, rows: Sequence[Cohorts]) -> list[Series]:
    series = [Series("Ever open in the term", [r.ever_open for r in rows], BLUE)]
    if report.summary.open_on_census_day is not None:
        census = [r.open_on_census_day or 0 for r in rows]
        series.insert(0, Series("Open on census day", census, ORANGE))
    return series


def _cohort_chart(
    report: TermReport,
    path: Path,
    what: str,
    names: tuple[str, str],
    rows: Sequence[tuple[str, Cohorts]],
) -> None:
    """Grouped bars per category; `names`: the axis title and the categories' plural."""
    axis, plural = names
    shown = [(label, row) for label, row in rows if row.ever_open]
    series = _cohort_series(report, [row for _, row in shown])
    figure, axes = _canvas(9.0, _height(len(shown), len(series)))
    _title(figure, what, report)
    if shown:
        _horizontal_groups(axes, [label for label, _ in shown], series)
        _legend(figure, len(series))
        axes.set_xlabel(f"Cases ({plural} with no case in the term are not shown)")
        axes.set_ylabel(axis)
    else:
        _nothing(axes, "No CME cases on the list in this term")
    figure.savefig(path, format="png", dpi=_DPI)


def chart_by_reason(report: TermReport, path: Path) -> None:
    """Cases by CME reason (horizontal bars: open on census day, ever open)."""
    rows = [(reason_label(r.reason), r) for r in report.by_reason]
    _cohort_chart(report, path, "CME cases by reason", ("Reason (DfE category)", "reasons"), rows)


def chart_by_risk_flag(report: TermReport, path: Path) -> None:
    """Cases by vulnerable group (a case counts once per risk flag it has)."""
    rows = [(risk_flag_label(r.risk_flag), r) for r in report.by_risk_flag]
    _cohort_chart(report, path, "CME cases by vulnerable group", ("Risk flag", "groups"), rows)


def chart_by_duration(report: TermReport, path: Path) -> None:
    """Cases by time on the list (vertical grouped bars per duration band)."""
    rows = report.by_duration
    series = [
        Series("Closed in the term (time to closure)", [r.closed for r in rows], GREEN),
        Series(f"Still open on {report.as_of:%d %b %Y}", [r.open_at_end for r in rows], BLUE),
    ]
    if report.summary.open_on_census_day is not None:
        census = [r.open_on_census_day or 0 for r in rows]
        series.insert(0, Series("Open on census day", census, ORANGE))
    figure, axes = _canvas(10.0, 5.0)
    _title(figure, "CME cases by time on the list", report)
    width = 0.8 / len(series)
    for i, one in enumerate(series):
        offsets = [col - 0.4 + width * (i + 0.5) for col in range(len(rows))]
        bars = axes.bar(offsets, one.values, width=width, label=one.name, color=one.colour)
        axes.bar_label(bars, padding=2, fontsize=8)
    axes.set_xticks(range(len(rows)), [r.band.label for r in rows])
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    # From 0, with room for the counts; at least 0-1 so an empty term has a sensible axis.
    top = max((v for one in series for v in one.values), default=0)
    axes.set_ylim(0, max(top, 1) * 1.15)
    axes.set_xlabel("Time on the list since the case was opened (or reopened)")
    axes.set_ylabel("Cases")
    _legend(figure, len(series))
    figure.savefig(path, format="png", dpi=_DPI)


def chart_enquiry_sla(report: TermReport, path: Path) -> None:
    """Locate enquiries due in the term per agency: on time, late, overdue, pending (stacked),
    with each agency's compliance at the end of its bar."""
    rows = report.enquiry_sla
    figure, axes = _canvas(9.0, _height(len(rows), 1))
    what = "Locate enquiries due in the term: answered by the respond-by date?"
    _title(figure, what, report, f"status on {_day(report.made_on)}")
    if not rows:
        _nothing(axes, "No locate enquiries were due in this term")
        figure.savefig(path, format="png", dpi=_DPI)
        return
    parts = [
        Series("Answered on time", [r.on_time for r in rows], GREEN),
        Series("Answered late", [r.late for r in rows], ORANGE),
        Series("Unanswered, overdue", [r.overdue for r in rows], VERMILLION),
        Series("Unanswered, not yet due", [r.pending for r in rows], GREY),
    ]
    lefts = [0] * len(rows)
    for part in parts:
        bars = axes.barh(
            range(len(rows)), part.values, left=lefts, label=part.name, color=part.colour
        )
        # Label only non-empty segments: a "0" on a zero-width segment overprints its neighbour.
        axes.bar_label(bars, labels=[str(v) if v else "" for v in part.values], label_type="center")
        lefts = [a + b for a, b in zip(lefts, part.values, strict=True)]
    for row, (total, sla) in enumerate(zip(lefts, rows, strict=True)):
        pct = "no answers due" if sla.compliance_pct is None else f"{sla.compliance_pct}% on time"
        axes.annotate(pct, (total, row), xytext=(4, 0), textcoords="offset points", va="center")
    axes.set_yticks(range(len(rows)), [r.agency_id for r in rows])
    axes.invert_yaxis()
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    # Room for the percentages; margins() would stop at the zero-width segments' edges.
    axes.set_xlim(0, max(lefts) * 1.3)
    axes.set_xlabel("Enquiries due in the term")
    axes.set_ylabel("Agency")
    _legend(figure, len(parts))
    figure.savefig(path, format="png", dpi=_DPI)


CHARTS: Final[tuple[tuple[str, Callable[[TermReport, Path], None]], ...]] = (
    ("by_reason", chart_by_reason),
    ("by_duration", chart_by_duration),
    ("by_risk_flag", chart_by_risk_flag),
    ("enquiry_sla_by_agency", chart_enquiry_sla),
)
"""Each chart's file-name part and the function that draws it."""
