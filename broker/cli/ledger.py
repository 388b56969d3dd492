"""`cme-broker ledger ...` (verify, export, checkpoint) and `cme-broker track MESSAGE_ID`.

`ledger_app` and `track` are mounted by `broker.cli.main`.
"""

import sys
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from broker.cli.context import console, container, err_console, refusals
from broker.ledger import LedgerFilter, ledger_for

ledger_app = typer.Typer(
    help="The justification ledger: verify, export, checkpoint.", no_args_is_help=True
)


class ExportFormatOption(StrEnum):
    """Export file formats."""

    CSV = "csv"
    JSON = "json"


def _when(value: str | None, option: str) -> datetime | None:
    """An ISO 8601 date or time; without an offset it is taken as UTC."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter("expected an ISO 8601 date or time", param_hint=option) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@ledger_app.command("verify")
def verify() -> None:
    """Check the hash chain and the hub's signed checkpoints; exit 1 naming the first bad entry.

    Finds entries changed, removed, inserted or reordered, and a tail cut below a checkpoint.
    """
    app = container()
    with refusals():
        report = ledger_for(app, signing=False).verify(app.snapshot(), hubs=(app.settings.hub_id,))
    if report.ok:
        console.print(report.message)
        return
    console.print(
        f"[red]ledger NOT verified[/red]: first bad entry {report.first_bad_seq} "
        f"({report.problem}): {report.message}",
        soft_wrap=True,
    )
    raise typer.Exit(1)


@ledger_app.command("export")
def export(
    fmt: Annotated[
        ExportFormatOption, typer.Option("--format", help="csv or json")
    ] = ExportFormatOption.CSV,
    agency: Annotated[str | None, typer.Option(help="Sender or recipient agency id")] = None,
    since: Annotated[str | None, typer.Option(help="From this ISO time (inclusive, UTC)")] = None,
    until: Annotated[str | None, typer.Option(help="Before this ISO time (UTC)")] = None,
    message_type: Annotated[str | None, typer.Option("--type", help="Message type")] = None,
    subject: Annotated[str | None, typer.Option(help="Subject pseudonym (22 chars)")] = None,
    out: Annotated[Path | None, typer.Option(help="File to write (default: stdout)")] = None,
) -> None:
    """Export entries (metadata and justifications) for the DPO or a subject access request."""
    filters = LedgerFilter(
        agency=agency,
        since=_when(since, "--since"),
        until=_when(until, "--until"),
        message_type=message_type,
        subject=subject,
    )
    ledger = ledger_for(container(), signing=False)
    with refusals():
        if out is None:
            count = ledger.export(filters, fmt.value, sys.stdout)
        else:
            with out.open("w", encoding="utf-8", newline="") as handle:
                count = ledger.export(filters, fmt.value, handle)
    err_console.print(f"exported {count} entries")


@ledger_app.command("checkpoint")
def checkpoint() -> None:
    """Sign the current head with the hub key now and print the signed checkpoint.

    Kept outside the database, the printed JWS is an independent anchor for the ledger.
    """
    with refusals():
        signed = ledger_for(container()).checkpoint()
    if signed is None:
        console.print("the ledger is empty: nothing to sign")
        return
    console.print(
        f"checkpoint at entry {signed.seq}: hash {signed.entry_hash}, kid {signed.kid}",
        soft_wrap=True,
    )
    typer.echo(signed.signature)


def track(message_id: Annotated[str, typer.Argument(help="The message id (jti)")]) -> None:
    """The life of a message from the ledger (routed, refused, delivered, receipted, ...).

    Exit 1 when the ledger has nothing about the message.
    """
    with refusals():
        entries = ledger_for(container(), signing=False).history(message_id)
    if not entries:
        err_console.print(f"no ledger entries for message {message_id}")
        raise typer.Exit(1)
    table = Table("seq", "time (UTC)", "event", "from", "to", "type", "reason / rule")
    for entry in entries:
        why = " / ".join(x for x in (entry.reason_code, entry.rule) if x)
        if entry.related_message_id and entry.message_id != message_id:
            why = " / ".join(x for x in (why, f"about {entry.message_id}") if x)
        elif entry.related_message_id:
            why = " / ".join(x for x in (why, f"related {entry.related_message_id}") if x)
        table.add_row(
            str(entry.seq),
            entry.recorded_at.strftime("%Y-%m-%d %H:%M:%S"),
            entry.event,
            entry.sender,
            entry.recipient,
            f"{entry.message_type} v{entry.schema_version}",
            why,
        )
    console.print(table)
