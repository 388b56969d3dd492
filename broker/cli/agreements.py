"""`cme-broker agreements ...`: validate the data sharing agreements and show what they permit."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from broker.agreements import AgreementBook, AgreementDocumentError, load_agreements
from broker.cli.context import console, container, err_console

agreements_app = typer.Typer(help="Data sharing agreements.", no_args_is_help=True)


@agreements_app.callback()
def agreements() -> None:
    """Data sharing agreements as code (deploy/agreements/*.yaml)."""
    # A callback keeps `check` a named sub-command even while it is the only one.


def _tables(book: AgreementBook, now: datetime) -> list[Table]:
    """One table per agreement version: its flows, who to whom, what, why and on what basis."""
    rows = book.describe()
    tables = []
    for agreement in book.agreements():
        until = agreement.effective_until.isoformat() if agreement.effective_until else "-"
        in_force = "in force" if agreement.in_force(now) else "NOT in force"
        table = Table(
            title=f"{agreement.id} v{agreement.version}: {agreement.title}",
            caption=f"{agreement.status.value}, {agreement.effective_from} .. {until}, {in_force}",
            title_justify="left",
            caption_justify="left",
        )
        for column in ("flow", "from", "to", "message types", "purposes", "lawful bases"):
            # Ids and type names stay whole; party and purpose lists can wrap.
            table.add_column(column, overflow="fold", no_wrap=column in ("flow", "message types"))
        for row in rows:
            if (row.agreement, row.version) == (agreement.id, agreement.version):
                table.add_row(
                    row.flow,
                    "\n".join(row.from_),
                    "\n".join(row.to),
                    "\n".join(row.types),
                    "\n".join(row.purposes),
                    "\n".join(row.bases),
                )
        tables.append(table)
    return tables


@agreements_app.command("check")
def check(
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir",
            help="Directory of agreement documents (*.yaml, *.json); default: the router's "
            "(CME_AGREEMENTS_DIR, or the shipped deploy/agreements)",
        ),
    ] = None,
) -> None:
    """Validate every agreement document and list what each permits (exit 2 if invalid)."""
    directory = directory or container().settings.resolved_agreements_dir
    try:
        book = load_agreements(directory)
    except AgreementDocumentError as exc:
        for problem in exc.problems:
            err_console.print(f"[red]invalid[/red] {exc.source}: {problem}", soft_wrap=True)
        raise typer.Exit(2) from None
    for table in _tables(book, datetime.now(UTC)):
        console.print(table)
    flows = sum(len(a.flows) for a in book.agreements())
    console.print(f"{len(book.agreements())} agreement version(s), {flows} flow(s): valid")
