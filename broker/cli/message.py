"""`cme-broker message ...`: seal, open and example messages, for integrators and tests."""

import json
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from broker.cli.context import console, container, refusals
from broker.envelope import Draft
from broker.errors import JustificationInvalid, Malformed
from schemas.examples import example_justification, example_payload, example_sender_recipient
from schemas.justification import Justification
from schemas.registry import default_registry, describe_errors

message_app = typer.Typer(help="Seal, open and example messages.", no_args_is_help=True)


@message_app.command("seal")
def seal(
    sender: Annotated[str, typer.Option("--from", help="Sending agency id")],
    recipient: Annotated[str, typer.Option("--to", help="Recipient agency id")],
    message_type: Annotated[str, typer.Option("--type", help="e.g. school.deletion_return")],
    payload: Annotated[Path, typer.Option(help="Payload JSON file")],
    justification: Annotated[Path, typer.Option(help="Justification JSON file")],
    version: Annotated[int | None, typer.Option(help="Schema version (default: newest)")] = None,
) -> None:
    """Seal a payload from SENDER to RECIPIENT and print the envelope."""
    app = container()
    registry = default_registry()
    with refusals():
        model = registry.validate(
            message_type, version or registry.latest(message_type), _json_file(payload)
        )
        try:
            reason = Justification.model_validate(_json_file(justification))
        except ValidationError as exc:
            raise JustificationInvalid(describe_errors(exc)) from None
        sealed = app.sealer(sender).seal(Draft(recipient, message_type, model, reason))
    typer.echo(sealed.to_json())


def _json_file(path: Path) -> object:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        raise Malformed(f"{path.name} is not a readable JSON file") from None


@message_app.command("open")
def open_(
    agency: Annotated[str, typer.Option("--as", help="The opening agency id")],
    envelope: Annotated[Path, typer.Option(help="Envelope file")],
) -> None:
    """Open an envelope as AGENCY and print the payload; on refusal print the reason code."""
    app = container()
    with refusals():
        opened = app.opener(agency).open(envelope.read_bytes())
    typer.echo(opened.payload.model_dump_json(indent=2))


@message_app.command("example")
def example(
    message_type: Annotated[str, typer.Argument(help="e.g. school.deletion_return")],
    out: Annotated[Path, typer.Option(help="Directory to write into")],
    version: Annotated[int | None, typer.Option(help="Schema version (default: newest)")] = None,
) -> None:
    """Write a valid synthetic payload and a matching justification for MESSAGE_TYPE."""
    with refusals():
        payload = example_payload(message_type, version)
        sender, recipient = example_sender_recipient(message_type)
        reason = example_justification(message_type, sender=sender, recipient=recipient)
    out.mkdir(parents=True, exist_ok=True)
    payload_file = out / f"{message_type}.payload.json"
    reason_file = out / f"{message_type}.justification.json"
    payload_file.write_text(payload.model_dump_json(indent=2) + "\n")
    reason_file.write_text(reason.model_dump_json(indent=2) + "\n")
    console.print(f"wrote {payload_file} and {reason_file} (from {sender} to {recipient})")
