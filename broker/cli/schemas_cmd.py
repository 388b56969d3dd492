"""`cme-broker schemas ...`."""

from pathlib import Path
from typing import Annotated

import typer

from broker.cli.context import console
from schemas.export import export_json_schemas

schemas_app = typer.Typer(help="Message schemas.", no_args_is_help=True)


@schemas_app.command("export")
def export(
    out: Annotated[Path, typer.Option(help="Directory for the JSON Schema files")] = Path(
        "schemas/json"
    ),
) -> None:
    """Write one JSON Schema per message type and version."""
    written = export_json_schemas(out)
    console.print(f"wrote {len(written)} schemas to {out}")
