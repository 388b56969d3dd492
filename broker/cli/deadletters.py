"""`cme-broker deadletters ...`: look at dead-lettered messages, and replay them after a fix
(see `broker.deadletters` for how reading and replaying keep every message)."""

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from typing import Annotated

import aiormq
import typer
from rich.table import Column, Table

from broker.app import Container
from broker.cli.context import console, container, err_console, refusals
from broker.deadletters import (
    MAX_HELD,
    Listing,
    ReplayOutcome,
    list_dead_letters,
    replay_dead_letters,
    resolve_queue,
)

deadletters_app = typer.Typer(
    help="Dead-lettered messages: list them, replay them after a fix.", no_args_is_help=True
)


# -- commands -------------------------------------------------------------------------------


@deadletters_app.command("list")
def list_command(
    queue: Annotated[
        str | None,
        typer.Option(help="A work queue (name, `router`, or an agency id); default: all"),
    ] = None,
    limit: Annotated[int, typer.Option(min=0, max=1000, help="Messages shown per queue")] = 50,
) -> None:
    """Count each dead-letter queue and describe its first LIMIT messages.

    For each: message id, origin queue, reason, retries and when it was dead-lettered; never
    a payload. Every message stays where it was, in the same order."""
    app = container()
    with refusals(), amqp_refusals():
        agencies = [a.id for a in app.snapshot().agencies()]
        work = app.topology.work_queues(agencies)
        queues = [resolve_queue(app.topology, agencies, queue)] if queue else work
        dlqs = [app.topology.dead_letter_queue(q) for q in queues]
        listings = asyncio.run(list_dead_letters(_url(app), dlqs, limit))
    for listing in listings:
        _print_listing(listing)


@deadletters_app.command("replay")
def replay_command(
    queue: Annotated[str, typer.Argument(help="The work queue (name, `router`, or agency id)")],
    message_id: Annotated[
        list[str] | None, typer.Option("--message-id", help="A message id to replay (repeat)")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Replay every dead letter")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
    limit: Annotated[
        int,
        typer.Option(min=1, max=MAX_HELD, help="Dead letters looked at (from the head)"),
    ] = MAX_HELD,
) -> None:
    """Send dead letters of QUEUE back to it, to be processed again after a fix.

    Each goes through the first retry's wait queue with its full retries again, and leaves
    the dead-letter queue only once its copy is confirmed. Exits 1 if any could not be
    replayed (it stays in the dead-letter queue) or was not found."""
    if bool(message_id) == all_:
        raise typer.BadParameter("give --message-id (one or more) or --all", param_hint="--all")
    app = container()
    with refusals(), amqp_refusals():
        agencies = [a.id for a in app.snapshot().agencies()]
        work_queue = resolve_queue(app.topology, agencies, queue)
        what = "every dead letter" if all_ else f"{len(message_id or [])} message(s)"
        if not yes:
            typer.confirm(f"Replay {what} of {work_queue}.dlq into {work_queue}?", abort=True)
        ids = None if all_ else set(message_id or [])
        outcome = asyncio.run(replay_dead_letters(_url(app), app.topology, work_queue, ids, limit))
    _print_outcome(work_queue, outcome)
    if outcome.failed or outcome.not_found:
        raise typer.Exit(1)


def _url(app: Container) -> str:
    return app.settings.rabbitmq_url.get_secret_value()


def _print_listing(listing: Listing) -> None:
    if listing.count is None:
        console.print(f"{listing.queue}: [yellow]no such queue[/yellow]")
        return
    console.print(f"{listing.queue}: {listing.count} message(s)")
    if listing.count > MAX_HELD:
        console.print(f"not read: more than {MAX_HELD} (reading would reorder the queue)")
    if not listing.letters:
        return
    # Ids are copied into `replay --message-id`: never cut or wrapped.
    table = Table(Column("message id", no_wrap=True, min_width=36), "origin queue", "reason")
    for column in ("cme reason", "deaths", "retries", "dead-lettered (UTC)"):
        table.add_column(column)
    for letter in listing.letters:
        when = letter.dead_lettered_at
        at = when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if when else "-"
        table.add_row(
            letter.message_id,
            letter.origin_queue,
            letter.reason,
            letter.cme_reason or "-",
            str(letter.deaths),
            str(letter.retries),
            at,
        )
    console.print(table)
    if len(listing.letters) < listing.count:
        console.print(f"... and {listing.count - len(listing.letters)} more")


def _print_outcome(queue: str, outcome: ReplayOutcome) -> None:
    console.print(f"replayed {len(outcome.replayed)} message(s) into {queue}")
    for message_id in outcome.failed:
        err_console.print(f"[red]not replayed[/red] (left in {queue}.dlq): {message_id}")
    for message_id in outcome.not_found:
        err_console.print(f"[red]not found[/red] in {queue}.dlq: {message_id}")
    if outcome.remaining:
        console.print(f"{outcome.remaining} more not looked at: run again")


@contextmanager
def amqp_refusals() -> Iterator[None]:
    """RabbitMQ unreachable or refusing: say so on stderr, exit 2 (the error type only)."""
    try:
        yield
    except (aiormq.exceptions.AMQPError, ConnectionError, OSError, TimeoutError) as exc:
        err_console.print(f"[red]RabbitMQ unavailable[/red]: {type(exc).__name__}")
        raise typer.Exit(2) from None
