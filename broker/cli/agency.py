"""`cme-broker agency ...` and `cme-broker directory ...`."""

import json
from pathlib import Path
from typing import Annotated

import typer
from joserfc.jwk import OKPKey
from rich.table import Table

from broker.cli.context import console, container, err_console, refusals
from broker.directory.export import export_directory, import_directory
from broker.directory.model import AgencyStatus
from broker.directory.store import generate_keys
from broker.errors import DirectoryError
from schemas.agency import check_agency_id

agency_app = typer.Typer(help="Agencies and their keys.", no_args_is_help=True)
directory_app = typer.Typer(help="Signed directory export and import.", no_args_is_help=True)


PublicJwks = Annotated[
    Path | None,
    typer.Option(
        help="Public keys the agency made with `agency keygen` (production: no private key "
        "is ever made at the hub); without it, key pairs go to this machine's keystore"
    ),
]


def _public_keys(path: Path | None) -> list[OKPKey] | None:
    if path is None:
        return None
    try:
        return [OKPKey.import_key(k) for k in json.loads(path.read_text())["keys"]]
    except (ValueError, KeyError, TypeError):
        raise DirectoryError("not a JWKS file of public OKP keys") from None


@agency_app.command("keygen")
def keygen(
    agency_id: Annotated[str, typer.Argument(help="KIND:CODE of this agency")],
    out: Annotated[Path, typer.Option(help="File for the public keys (give it to the hub)")],
) -> None:
    """On the agency's own machine: make its key pairs (private halves stay in this keystore,
    mode 0600) and write the public halves as a JWKS for `agency add --public-jwks`."""
    with refusals():
        try:
            check_agency_id(agency_id)
        except ValueError as exc:
            raise DirectoryError(str(exc)) from None
        keys = generate_keys(agency_id, container().keystore)
    out.write_text(json.dumps({"keys": [k.as_dict(private=False) for k in keys]}, indent=2))
    console.print(f"wrote {len(keys)} public keys to {out}; private keys stay in the keystore")


@agency_app.command("add")
def add(
    agency_id: Annotated[str, typer.Argument(help="KIND:CODE, e.g. school:3304000")],
    name: Annotated[str, typer.Option(help="Display name")],
    home_la: Annotated[str | None, typer.Option(help="LA code, if not implied by the id")] = None,
    public_jwks: PublicJwks = None,
) -> None:
    """Register an agency with its public keys (or, in development, fresh key pairs)."""
    with refusals():
        keys = _public_keys(public_jwks)
        agency = container().directory_store.add_agency(agency_id, name, home_la, keys)
    console.print(f"added {agency.id} (home LA {agency.home_la})")


@agency_app.command("list")
def list_agencies(
    full: Annotated[bool, typer.Option("--full", help="Whole kids (to revoke one)")] = False,
) -> None:
    """List agencies with their current keys."""
    snapshot = container().snapshot()
    table = Table("id", "name", "home LA", "status", "keys (use:kid:status)")
    for agency in snapshot.agencies():
        keys = [
            f"{k.use}:{k.kid if full else k.kid[:12] + '…'}:{k.status}"
            + (f" until {k.not_after:%Y-%m-%d}" if k.not_after else "")
            for k in snapshot.public_keys()
            if k.agency_id == agency.id
        ]
        table.add_row(agency.id, agency.name, agency.home_la, agency.status, "\n".join(keys))
    console.print(table)


@agency_app.command("rotate-keys")
def rotate_keys(agency_id: str, public_jwks: PublicJwks = None) -> None:
    """New keys sign and receive from now; old ones stay valid through the overlap."""
    with refusals():
        kids = container().directory_store.rotate_keys(agency_id, _public_keys(public_jwks))
    console.print(f"rotated {agency_id}: new kids {', '.join(kids)}")


def _set_status(agency_id: str, status: AgencyStatus) -> None:
    with refusals():
        container().directory_store.set_status(agency_id, status)
    console.print(f"{agency_id} is now {status}")


@agency_app.command("suspend")
def suspend(agency_id: str) -> None:
    """Suspend an agency: its messages are refused until reinstated."""
    _set_status(agency_id, AgencyStatus.SUSPENDED)


@agency_app.command("reinstate")
def reinstate(agency_id: str) -> None:
    """Lift a suspension."""
    _set_status(agency_id, AgencyStatus.ACTIVE)


@agency_app.command("revoke")
def revoke(agency_id: str) -> None:
    """Revoke an agency and all its keys, with immediate effect."""
    _set_status(agency_id, AgencyStatus.REVOKED)


@agency_app.command("revoke-key")
def revoke_key(
    kid: Annotated[str, typer.Argument(help="The key's kid (see `agency list --full`)")],
) -> None:
    """Revoke one key with immediate effect (a compromised key), leaving the agency's other
    keys in use: rotate first so the agency has a new one."""
    with refusals():
        container().directory_store.revoke_key(kid)
    console.print(f"revoked key {kid}")


@directory_app.command("export")
def export(out: Annotated[Path | None, typer.Option(help="File to write")] = None) -> None:
    """Write the directory signed by the hub key; prints the hub kid to pin on import."""
    app = container()
    with refusals():
        key = app.hub_signing_key()
        store = app.directory_store
        text = export_directory(
            app.snapshot(), app.settings.hub_id, key, app.clock(), serial=store.revision()
        )
    if out:
        out.write_text(text + "\n")
    else:
        console.print(text, soft_wrap=True)
    err_console.print(f"signed by {app.settings.hub_id}, hub key kid (pin this): {key.kid}")


@directory_app.command("import")
def import_(
    file: Path,
    trust: Annotated[list[str], typer.Option(help="Pinned hub key kid (thumbprint)")],
) -> None:
    """Verify a signed export against pinned hub keys and cache it in the data directory."""
    app = container()
    cache = app.settings.data_dir / "directory.jws"
    pins = frozenset(trust)
    with refusals():
        held = import_directory(cache.read_text(), pins, now=None) if cache.exists() else None
        imported = import_directory(
            file.read_text(), pins, now=app.clock(), newer_than=held.serial if held else None
        )
    app.settings.data_dir.mkdir(parents=True, exist_ok=True)
    cache.write_text(file.read_text())
    snapshot = imported.snapshot
    agencies, keys = len(snapshot.agencies()), len(snapshot.public_keys())
    console.print(f"verified: {agencies} agencies, {keys} keys (serial {imported.serial})")
