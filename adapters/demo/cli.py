"""`cme-broker demo`: the whole scenario on the local RabbitMQ with two LA hubs."""

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from adapters.demo.scenario import Scenario, Timeline, Variant
from broker.cli.context import console, err_console
from broker.logconfig import configure_logging
from broker.settings import Settings


def demo(
    variant: Annotated[Variant, typer.Option(help="Which story to tell")] = Variant.FOUND,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Empty directory for this run (default: a fresh ./var/demo-<time>)"),
    ] = None,
) -> None:
    """Two LA hubs, a school, the CME desks, health, housing and social care: a child missing
    education is found in the neighbouring LA and handed over (synthetic data). Exit 0 when
    every step held, both ledgers verify and every message has its receipt."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
    data_dir = data_dir or Settings().data_dir / f"demo-{stamp}"
    if data_dir.exists() and any(data_dir.iterdir()):
        err_console.print(f"{data_dir} is not empty: the demo needs a fresh data directory")
        raise typer.Exit(2)
    configure_logging(level=logging.ERROR)  # the timeline below tells the story
    console.print(f"[bold]CME broker demo[/bold] ({variant.value}, synthetic data) in {data_dir}")
    timeline = Timeline(_say)
    url = Settings().rabbitmq_url.get_secret_value()
    scenario = Scenario(data_dir, url, variant, timeline)
    try:
        ok = asyncio.run(scenario.run())
    except OSError as exc:  # aio-pika's connection errors are OSErrors
        err_console.print(f"[red]cannot reach RabbitMQ[/red] ({type(exc).__name__}): start it "
                          "(make services) or set CME_RABBITMQ_URL")  # fmt: skip
        raise typer.Exit(1) from None
    _print_tracks(scenario)
    if not ok:
        err_console.print(f"[red]demo failed[/red]: {'; '.join(timeline.problems)}")
        raise typer.Exit(1)
    console.print("[green]demo complete[/green]: every step held")


def _print_tracks(scenario: Scenario) -> None:
    table = Table(title="message tracks (from each hub's ledger)")
    for column in ("hub", "message", "event", "from", "to", "type"):
        table.add_column(column)
    for row in scenario.tracks:
        table.add_row(*row)
    console.print(table)


def _say(who: str, what: str, good: bool) -> None:
    mark = "[green]ok[/green]" if good else "[red]FAILED[/red]"
    console.print(f"{mark:>20} [bold]{who:<18}[/bold] {what}")
