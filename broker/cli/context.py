"""Shared CLI plumbing: the container for this invocation and error handling at the edge."""

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console

from broker.app import Container
from broker.errors import BrokerError
from broker.settings import Settings
from schemas.errors import SchemaError

# Piped output (CI logs, `| less`) gets a wide fixed width instead of rich's 80 columns.
_WIDTH = None if sys.stdout.isatty() else 140
console = Console(width=_WIDTH)
err_console = Console(stderr=True, width=_WIDTH)
_state: dict[str, Path | None] = {"data_dir": None}


def set_data_dir(path: Path | None) -> None:
    """Remember a `--data-dir` given before the sub-command."""
    _state["data_dir"] = path


def container() -> Container:
    """Build the container for this invocation (settings from the environment)."""
    data_dir = _state["data_dir"]
    settings = Settings(data_dir=data_dir) if data_dir else Settings()
    return Container(settings)


@contextmanager
def refusals() -> Iterator[None]:
    """Turn the broker's errors into a reason code on stderr and exit status 2."""
    try:
        yield
    except (BrokerError, SchemaError) as exc:
        err_console.print(f"[red]refused[/red] reason={exc.reason}: {exc}")
        sys.stdout.flush()
        raise typer.Exit(2) from None
