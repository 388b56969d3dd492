"""`cme-broker demo`: the end-to-end demonstration with a readable timeline."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from broker import demo as scenario
from broker.app import Container
from broker.cli.context import console, err_console
from broker.settings import Settings


def demo(
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Empty directory for this run (default: a fresh ./var/demo-<time>)"),
    ] = None,
) -> None:
    """Run the demo: seal, open, and three refused attacks, each with its reason code."""
    if data_dir is None:
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
        data_dir = Settings().data_dir / f"demo-{stamp}"
    if data_dir.exists() and any(data_dir.iterdir()):
        err_console.print(f"{data_dir} is not empty: the demo needs a fresh data directory")
        raise typer.Exit(2)
    settings = Settings(data_dir=data_dir, database_url=None)
    console.print(f"[bold]CME broker demo[/bold] (synthetic data) in {data_dir}")
    steps = scenario.run(Container(settings))
    table = Table("#", "who", "what", "outcome", "as expected")
    for number, step in enumerate(steps, start=1):
        mark = "[green]yes[/green]" if step.as_expected else "[red]NO[/red]"
        table.add_row(str(number), step.actor, step.action, step.outcome, mark)
    console.print(table)
    if not all(step.as_expected for step in steps):
        err_console.print("[red]the demo did not behave as expected[/red]")
        raise typer.Exit(1)
    console.print("[green]demo complete: every check behaved as expected[/green]")
