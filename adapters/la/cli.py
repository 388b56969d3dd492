"""`cme-broker cases ...` and `cme-broker desk run`: the CME team's command line. No logic here:
every command calls the desk's Python API (`CmeDesk`, `CaseRegister`)."""

import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.table import Table

from adapters.la.app import DeskApp, build_desk, run_desk
from adapters.la.errors import DeskError
from adapters.la.model import CaseState, Priority
from adapters.la.records import CaseDetail, CaseFilter
from adapters.la.reporting import write_report
from adapters.la.rules import ClosureEvidence
from adapters.la.settings import DeskSettings
from broker.cli.context import console, container, err_console
from broker.errors import BrokerError
from broker.runtime import run_until_signalled
from schemas.case import ClosureOutcome

cases_app = typer.Typer(help="The CME tracking list: cases, their timelines, closing.")
desk_app = typer.Typer(help="Run the LA's CME desk (consume its queue, sweep daily).")
report_app = typer.Typer(help="Reports for senior leaders and safeguarding partners.")
By = Annotated[str, typer.Option("--by", help="Who acts (a case worker id, e.g. user:jsmith)")]
EVIDENCE_HELP = "key=value, repeatable: " + ", ".join(
    f for f in ClosureEvidence.model_fields if f != "date_of_birth"
)
Why = Annotated[str, typer.Option("--why", help="Why (recorded, encrypted, on the timeline)")]


def _default_actor() -> str:
    return f"user:{getpass.getuser()}"


@contextmanager
def _refusals() -> Iterator[None]:
    """The desk's and the broker's errors become a reason code and exit status 2."""
    try:
        yield
    except (DeskError, BrokerError) as exc:
        err_console.print(f"[red]refused[/red] reason={exc.reason}: {exc}")
        sys.stdout.flush()
        raise typer.Exit(2) from None


def _app() -> DeskApp:
    return build_desk(container(), DeskSettings())


@cases_app.command("list")
def list_cases(
    overdue: Annotated[bool, typer.Option(help="Only cases with an overdue enquiry")] = False,
    priority: Annotated[Priority | None, typer.Option(help="Only this priority")] = None,
    closed: Annotated[bool, typer.Option("--all", help="Include closed cases")] = False,
) -> None:
    """The tracking list, most urgent and oldest first (no personal data is shown)."""
    with _refusals():
        desk = _app().desk
        wanted = CaseFilter(
            include_closed=closed,
            priority=priority,
            overdue_on=desk.today() if overdue else None,
        )
        cases = desk.register.list_cases(wanted)
    table = Table("case", "state", "priority", "reason", "risk flags", "opened", "enquiries")
    for case in cases:
        table.add_row(
            case.case_ref,
            case.state.value,
            case.priority.value,
            case.reason.value,
            ", ".join(f.value for f in case.risk_flags) or "-",
            case.opened_at.strftime("%Y-%m-%d"),
            f"{case.open_enquiries} open, {case.overdue_enquiries} overdue",
        )
    console.print(table)
    console.print(f"{len(cases)} case(s)")


@cases_app.command("show")
def show_case(case_ref: Annotated[str, typer.Argument(help="The case reference")]) -> None:
    """One case: the child (this shows personal data), enquiries and the whole timeline."""
    with _refusals():
        detail = _app().desk.register.show_case(case_ref)
    _print_case(detail)


def _print_case(detail: CaseDetail) -> None:
    summary, child = detail.summary, detail.child
    console.print(f"[bold]{summary.case_ref}[/bold] {summary.kind.value} - {summary.state.value}, "
                  f"priority {summary.priority.value}, reason {summary.reason.value}")  # fmt: skip
    console.print(f"child: {child.forenames} {child.surname}, born {child.date_of_birth}")
    enquiries = Table("to", "state", "respond by", "outcome")
    for e in detail.enquiries:
        enquiries.add_row(e.agency_id, e.state.value, str(e.respond_by or "-"), e.outcome or "-")
    console.print(enquiries)
    timeline = Table("when (UTC)", "event", "by", "why / evidence")
    for entry in detail.timeline:
        text = " / ".join(x for x in (entry.why, entry.evidence) if x)
        timeline.add_row(entry.at.strftime("%Y-%m-%d %H:%M"), entry.kind.value, entry.actor, text)
    console.print(timeline)


def _evidence(pairs: list[str]) -> ClosureEvidence | None:
    """`key=value` pairs into the closure evidence (field names, never values, in errors)."""
    if not pairs:
        return None
    data: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise DeskError("evidence_not_key_value", "evidence is given as key=value")
        data[key.strip()] = value.strip()
    try:
        return ClosureEvidence.model_validate(data)
    except ValidationError as exc:
        fields = ", ".join(str(e["loc"][0]) for e in exc.errors() if e["loc"])
        raise DeskError("evidence_invalid", f"invalid or unknown evidence: {fields}") from None


@cases_app.command("close")
def close_case(
    case_ref: Annotated[str, typer.Argument(help="The case reference")],
    outcome: Annotated[str, typer.Option(help=", ".join(o.value for o in ClosureOutcome))],
    evidence: Annotated[list[str], typer.Option(help=EVIDENCE_HELP)],
    why: Why,
    by: By = "",
) -> None:
    """Close a case with an allowed outcome and its evidence; the notifiers are told."""
    with _refusals():
        _app().desk.close_case(case_ref, outcome, _evidence(evidence), by or _default_actor(), why)
    console.print(f"{case_ref} closed: {outcome}")


@cases_app.command("reopen")
def reopen_case(
    case_ref: Annotated[str, typer.Argument(help="The case reference")], why: Why, by: By = ""
) -> None:
    """Put a closed case back on the tracking list."""
    with _refusals():
        _app().desk.reopen_case(case_ref, by or _default_actor(), why)
    console.print(f"{case_ref} reopened")


@cases_app.command("notify-la")
def notify_la(
    case_ref: Annotated[str, typer.Argument(help="The case reference")],
    to: Annotated[str, typer.Option("--to", help="The receiving LA, e.g. la:331")],
    why: Why,
    by: By = "",
) -> None:
    """Send a cross-border notification; the case waits on the receiving LA."""
    with _refusals():
        message_id = _app().desk.notify_cross_border(case_ref, to, by or _default_actor(), why)
    console.print(f"{case_ref}: notification {message_id} staged for {to}")


@cases_app.command("national-search")
def national_search(
    case_ref: Annotated[str, typer.Argument(help="The case reference")], why: Why, by: By = ""
) -> None:
    """Destination unknown after enquiries: mark for a national lost-pupil search."""
    with _refusals():
        _app().desk.mark_national_search(case_ref, by or _default_actor(), why)
    console.print(f"{case_ref}: {CaseState.NATIONAL_SEARCH.value}")


@cases_app.command("sweep")
def sweep(
    on: Annotated[str | None, typer.Option(help="As of this day (YYYY-MM-DD)")] = None,
) -> None:
    """Chase overdue enquiries, escalate lapsed ones, tell schools enquiries are complete
    (what `desk run` does daily). Messages are staged; `desk run` publishes them."""
    with _refusals():
        report = _app().desk.sweep(date.fromisoformat(on) if on else None)
    console.print(
        f"chased {len(report.chased)}, to the CME lead {len(report.to_lead)}, "
        f"cross-border escalated {len(report.cross_border_escalated)}, "
        f"schools told {len(report.schools_told)}"
    )


@cases_app.command("duplicates")
def duplicates() -> None:
    """The possible-duplicate queue: notifications a person must match or keep apart."""
    with _refusals():
        queue = _app().desk.register.possible_duplicates()
    table = Table("id", "existing case", "confidence", "since")
    for entry in queue:
        table.add_row(entry.duplicate_id, entry.existing_case_ref, f"{entry.confidence:.2f}",
                      entry.created_at.strftime("%Y-%m-%d"))  # fmt: skip
    console.print(table)


@desk_app.command("run")
def run(
    sweep_every: Annotated[float, typer.Option(help="Seconds between sweeps")] = 3600.0,
) -> None:
    """Consume the desk's queue and sweep periodically until interrupted (SIGINT/SIGTERM)."""

    with _refusals():
        app = _app()
        run_until_signalled(lambda stop: run_desk(app, stop, sweep_every))


@report_app.command("termly")
def termly(
    term: Annotated[str, typer.Option(help="The term, e.g. 2026-autumn, 2027-spring")],
    out: Annotated[Path, typer.Option(help="Directory for the JSON, CSV and PNG files")],
) -> None:
    """The termly CME analysis as JSON, CSV tables and PNG charts (no personal data)."""
    with _refusals(), console.status("reading the register") as status:
        report = _app().desk.termly_report(term)
        written = write_report(report, out, progress=lambda step: status.update(step))
    for path in written:
        console.print(str(path))
    s = report.summary
    console.print(
        f"{term}: open on census day {s.open_on_census_day}, ever open {s.ever_open}, "
        f"opened {s.opened}, closed {s.closed}, cross-border in {s.cross_border_in} / "
        f"out {s.cross_border_out}"
    )
