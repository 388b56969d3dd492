"""`cme-broker demo`: the end-to-end demonstration with a readable timeline."""

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from broker import demo as scenario
from broker.app import Container
from broker.cli.context import console, err_console
from broker.ledger import LedgerEntry
from broker.logconfig import configure_logging
from broker.settings import Settings


def demo(
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Empty directory for this run (default: a fresh ./var/demo-<time>)"),
    ] = None,
) -> None:
    """Run the demo through RabbitMQ and the router: a deletion return routed, opened and
    receipted; a tampered copy, a wrong recipient and a replay refused; tracks and ledger."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
    if data_dir is None:
        data_dir = Settings().data_dir / f"demo-{stamp}"
    if data_dir.exists() and any(data_dir.iterdir()):
        err_console.print(f"{data_dir} is not empty: the demo needs a fresh data directory")
        raise typer.Exit(2)
    # Its own topology prefix: the demo never touches a running hub's queues.
    settings = Settings(data_dir=data_dir, database_url=None, topology_prefix=f"demo{stamp[-6:]}")
    configure_logging(level=logging.WARNING)  # the timeline below tells the story
    console.print(f"[bold]CME broker demo[/bold] (synthetic data) in {data_dir}")
    try:
        result = scenario.run(Container(settings))
    except OSError as exc:  # aio-pika's connection errors are OSErrors
        err_console.print(
            f"RabbitMQ is not reachable ({type(exc).__name__}): run `make services`, or set "
            "CME_RABBITMQ_URL"
        )
        raise typer.Exit(2) from None
    _print_steps(result.steps)
    for label, entries in result.tracks.items():
        _print_track(label, entries)
    if not all(step.as_expected for step in result.steps):
        err_console.print("[red]the demo did not behave as expected[/red]")
        raise typer.Exit(1)
    console.print("[green]demo complete: every check behaved as expected[/green]")


def _print_steps(steps: list[scenario.Step]) -> None:
    table = Table("#", "who", "what", "outcome", "as expected")
    for number, step in enumerate(steps, start=1):
        mark = "[green]yes[/green]" if step.as_expected else "[red]NO[/red]"
        table.add_row(str(number), step.actor, step.action, step.outcome, mark)
    console.print(table)


def _print_track(label: str, entries: list[LedgerEntry]) -> None:
    table = Table("seq", "event", "from", "to", "type", "reason / rule", title=f"track: {label}")
    for entry in entries:
        why = " / ".join(x for x in (entry.reason_code, entry.rule) if x)
        table.add_row(str(entry.seq), entry.event, entry.sender, entry.recipient,
                      entry.message_type, why)  # fmt: skip
    console.print(table)
