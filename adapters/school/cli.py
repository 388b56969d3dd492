"""`cme-broker school ...`: a school's command line. No logic here: every command calls the
adapter's Python API (`SchoolAdapter`, `Importer`, `Watcher`).

Exit status: 0 done; 1 done, but some rows were refused (each listed with its line number);
2 refused as a whole (an unreadable file, another school's CTF, a bad setting).
"""

import asyncio
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from adapters.school.app import SchoolApp, build_school, run_school
from adapters.school.errors import SchoolError
from adapters.school.importer import ImportReport
from adapters.school.settings import SchoolSettings
from adapters.school.store import DeletionState
from adapters.school.watch import Picked
from broker.cli.context import console, container, err_console
from broker.errors import BrokerError
from broker.runtime import run_until_signalled
from schemas.domain import DeletionGround

school_app = typer.Typer(help="A school's adapter: statutory returns from the MIS's exports.")
As = Annotated[str, typer.Option("--as", help="The school, e.g. school:3304000")]
PUBLISH_TIMEOUT_S = 30.0


@contextmanager
def _refusals() -> Iterator[None]:
    """The adapter's and the broker's errors become a reason code and exit status 2."""
    try:
        yield
    except (SchoolError, BrokerError) as exc:
        err_console.print(f"[red]refused[/red] reason={exc.reason}: {exc}")
        sys.stdout.flush()
        raise typer.Exit(2) from None
    except ValidationError as exc:  # settings or --as: field names only, never values
        fields = ", ".join(".".join(str(p) for p in e["loc"]) or "value" for e in exc.errors())
        err_console.print(f"[red]refused[/red] reason=invalid_setting: {fields}")
        raise typer.Exit(2) from None


def _app(school: str) -> SchoolApp:
    try:
        return build_school(container(), SchoolSettings(), school)
    except ValueError as exc:  # the --as id: the rule that failed, not the value
        raise SchoolError("invalid_school_id", str(exc).splitlines()[0][:120]) from None


def _publish(app: SchoolApp) -> None:
    """Publish what is staged (the outbox keeps it if the hub is unreachable)."""

    async def flush() -> None:
        await app.client.start(consume=False)
        try:
            await app.client.flush(PUBLISH_TIMEOUT_S)
        finally:
            await app.client.stop()

    try:
        asyncio.run(flush())
    except (OSError, TimeoutError, ConnectionError) as exc:
        err_console.print(
            f"[yellow]not published yet[/yellow] ({type(exc).__name__}): the messages stay "
            "staged; `school run` or `school watch` publishes them"
        )


def _print_report(report: ImportReport) -> None:
    counts = report.counts()
    summary = ", ".join(f"{name} {n}" for name, n in sorted(counts.items()))
    console.print(f"{report.rows} row(s): {summary}")
    late = [(line, r) for line, r in report.results if r.late]
    if late:
        console.print(f"[yellow]{len(late)} return(s) after their statutory deadline[/yellow]")
    if report.problems:
        table = Table("line", "reason", "detail", title="Rows refused")
        for problem in report.problems:
            table.add_row(str(problem.line), problem.reason, problem.detail)
        console.print(table)


@school_app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV export or CTF")],
    school: As,
    ground: Annotated[
        DeletionGround | None,
        typer.Option(help="The reg 9 ground of a lost-pupil CTF's leavers, e.g. 9(1)(g)"),
    ] = None,
    publish: Annotated[bool, typer.Option(help="Publish to the hub after the import")] = True,
) -> None:
    """Import one export file: every good row's return is sent once, every bad row listed."""
    with _refusals():
        app = _app(school)
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, console=console) as progress:
            task = progress.add_task(file.name, total=None)

            def step(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            report = app.importer.import_file(file, ground=ground, progress=step)
        _print_report(report)
        if publish and report.sent:
            _publish(app)
    if report.problems:
        raise typer.Exit(1)


def _run(app: SchoolApp, directory: Path | None) -> None:
    def show(picked: Picked) -> None:
        if picked.report is not None:
            console.print(f"[bold]{picked.path.name}[/bold]")
            _print_report(picked.report)
        elif picked.problem is not None:
            err_console.print(f"{picked.path.name}: refused reason={picked.problem.reason}")

    watcher = app.watcher(directory, show) if directory is not None else None

    run_until_signalled(lambda stop: run_school(app, stop, watcher))


@school_app.command("watch")
def watch(
    directory: Annotated[Path, typer.Argument(exists=True, file_okay=False)],
    school: As,
    once: Annotated[bool, typer.Option(help="Import what is there now, publish, exit")] = False,
) -> None:
    """Pick up each new export file the MIS drops into DIRECTORY (polling every
    CME_SCHOOL_POLL_SECONDS), answer the school's messages and sweep, until interrupted."""
    with _refusals():
        app = _app(school)
        if not once:
            _run(app, directory)
            return
        picked = app.watcher(directory).poll(require_settled=False)
        for one in picked:
            console.print(f"[bold]{one.path.name}[/bold]")
            if one.report is not None:
                _print_report(one.report)
            elif one.problem is not None:
                err_console.print(f"refused reason={one.problem.reason}: {one.problem}")
        console.print(f"{len(picked)} new file(s)")
        _publish(app)


@school_app.command("run")
def run(school: As) -> None:
    """Answer the school's messages (destination checks, the LA's enquiries complete) and
    sweep deadlines, until interrupted (SIGINT/SIGTERM)."""
    with _refusals():
        _run(_app(school), None)


@school_app.command("sweep")
def sweep(school: As) -> None:
    """Send the returns whose new school did not answer in time (unconfirmed) and those that
    could not be sent before, and answer checks whose pupil did not join; then publish."""
    with _refusals():
        app = _app(school)
        report = app.adapter.sweep()
        console.print(
            f"returns sent {len(report.returns_released)}, checks answered {report.checks_answered}"
        )
        _publish(app)


@school_app.command("deletions")
def deletions(
    school: As,
    state: Annotated[list[DeletionState] | None, typer.Option(help="Only these states")] = None,
    names: Annotated[bool, typer.Option(help="Show the pupils' names (personal data)")] = False,
) -> None:
    """Leavers the adapter tracks: waiting for the new school, held for the LA's enquiries,
    released (`may_delete`) or stopped (`must_not_delete`)."""
    with _refusals():
        views = _app(school).adapter.deletions(state or ())
    columns = ["id", "state", "ground", "deletion date", "destination", "case"]
    table = Table(*(["pupil"] if names else []), *columns)
    for view in views:
        confirmed = {True: "confirmed", False: "unconfirmed", None: "-"}
        destination = view.destination_status or confirmed[view.destination_confirmed]
        if view.problem:  # `return_unsent`: why (a reason code)
            destination = f"{destination} ({view.problem})"
        pupil = [f"{view.pupil.forenames} {view.pupil.surname}"] if names else []
        table.add_row(
            *pupil,
            view.deletion_id[:12],
            view.state.value,
            view.ground,
            view.deletion_date.isoformat(),
            destination,
            view.case_ref or "-",
        )
    console.print(table)
    console.print(f"{len(views)} deletion(s)")
