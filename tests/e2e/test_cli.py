"""The `cme-broker` command line, end to end, in a temporary data directory."""

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from broker.cli.main import app
from schemas.registry import default_registry

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
Cli = Callable[..., str]


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.delenv("CME_DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    data = tmp_path / "data"

    def invoke(*args: str, ok: bool = True) -> str:
        result = runner.invoke(app, ["--data-dir", str(data), *args])
        output = result.output + (result.stderr if result.stderr_bytes is not None else "")
        assert (result.exit_code == 0) is ok, output
        return output

    return invoke


def test_agency_lifecycle(cli: Cli) -> None:
    cli("agency", "add", "school:3304000", "--name", "Synthetic Primary")
    cli("agency", "add", "health:M85001", "--name", "Synthetic GP", "--home-la", "330")
    assert "agency_exists" in cli("agency", "add", "school:3304000", "--name", "X", ok=False)
    assert "new kids" in cli("agency", "rotate-keys", "school:3304000")
    assert "suspended" in cli("agency", "suspend", "health:M85001")
    assert "active" in cli("agency", "reinstate", "health:M85001")
    kid = re.search(r"sig:(\S+):active", cli("agency", "list", "--full"))
    assert kid, "no active signing key listed"
    assert f"revoked key {kid.group(1)}" in cli("agency", "revoke-key", kid.group(1))
    assert f"sig:{kid.group(1)}:revoked" in cli("agency", "list", "--full")
    assert "revoked" in cli("agency", "revoke", "health:M85001")
    listing = cli("agency", "list")
    assert "school:3304000" in listing
    assert "revoked" in listing


def test_directory_export_and_pinned_import(cli: Cli, tmp_path: Path) -> None:
    cli("agency", "add", "la:330", "--name", "LA 330")
    out = tmp_path / "directory.jws"
    printed = cli("directory", "export", "--out", str(out))
    kid = re.search(r"pin this\): (\S+)", printed)
    assert kid, printed
    assert "verified: 2 agencies" in cli("directory", "import", str(out), "--trust", kid.group(1))
    refused = cli("directory", "import", str(out), "--trust", "not-the-hub", ok=False)
    assert "directory_signature_invalid" in refused


def test_example_seal_open_round_trip(cli: Cli, tmp_path: Path) -> None:
    cli("agency", "add", "school:3304000", "--name", "Synthetic Primary")
    cli("agency", "add", "la:330", "--name", "LA 330")
    cli("agency", "add", "health:M85001", "--name", "Synthetic GP", "--home-la", "330")
    examples = tmp_path / "examples"
    cli("message", "example", "school.deletion_return", "--out", str(examples))
    payload = examples / "school.deletion_return.payload.json"
    envelope = cli(
        "message", "seal", "--from", "school:3304000", "--to", "la:330",
        "--type", "school.deletion_return", "--payload", str(payload),
        "--justification", str(examples / "school.deletion_return.justification.json"),
    )  # fmt: skip
    wire = tmp_path / "envelope.json"
    wire.write_text(envelope.strip().splitlines()[-1])
    assert json.loads(wire.read_text())["cme"] == 1
    opened = cli("message", "open", "--as", "la:330", "--envelope", str(wire))
    assert json.loads(opened) == json.loads(payload.read_text())
    wrong = cli("message", "open", "--as", "health:M85001", "--envelope", str(wire), ok=False)
    assert "reason=wrong_recipient" in wrong
    replay = cli("message", "open", "--as", "la:330", "--envelope", str(wire), ok=False)
    assert "reason=replayed" in replay


def test_example_for_every_type(cli: Cli, tmp_path: Path) -> None:
    for message_type in default_registry().types():
        cli("message", "example", message_type, "--out", str(tmp_path / "ex"))
        assert (tmp_path / "ex" / f"{message_type}.payload.json").is_file()
    assert "unknown_message_type" in cli("message", "example", "no.such", "--out", "x", ok=False)


def test_schemas_export(cli: Cli, tmp_path: Path) -> None:
    cli("schemas", "export", "--out", str(tmp_path / "json"))
    written = sorted(p.name for p in (tmp_path / "json").iterdir())
    committed = sorted(p.name for p in (ROOT / "schemas" / "json").glob("*.schema.json"))
    assert written == committed
    assert len(written) == len(default_registry().specs())


def test_demo_shows_the_three_refusals(
    cli: Cli, tmp_path: Path, rabbitmq_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CME_RABBITMQ_URL", rabbitmq_url)
    output = cli("hub-demo", "--data-dir", str(tmp_path / "demo"))
    for reason in ("digest_mismatch", "wrong_recipient", "replayed"):
        assert f"refused: {reason}" in output
    assert "track: deletion return" in output
    assert "cme-area-330@1/deletion-return" in output  # routed under the agreement's rule
    assert "ledger verify (hash chain and signed checkpoint)" in output
    assert "every check behaved as expected" in output
    again = cli("hub-demo", "--data-dir", str(tmp_path / "demo"), ok=False)
    assert "fresh data directory" in again


def test_onboarding_with_keys_made_on_the_agency_side(cli: Cli, tmp_path: Path) -> None:
    """The agency makes its keys on its own machine; the hub records only public keys."""
    agency_side = tmp_path / "agency-machine"
    jwks = tmp_path / "school.jwks.json"
    runner.invoke(app, ["--data-dir", str(agency_side), "agency", "keygen", "school:3304000",
                        "--out", str(jwks)])  # fmt: skip
    public = json.loads(jwks.read_text())["keys"]
    assert {k["use"] for k in public} == {"sig", "enc"}
    assert all("d" not in k for k in public)
    cli("agency", "add", "school:3304000", "--name", "School", "--public-jwks", str(jwks))
    hub_keystore = tmp_path / "data" / "keystore"
    assert not (hub_keystore / "school_3304000").exists()  # no private key at the hub
    private = agency_side / "keystore" / "school_3304000"
    assert len(list(private.glob("*.jwk.json"))) == 2
    forged = [dict(public[0], kid="not-the-thumbprint"), public[1]]
    jwks.write_text(json.dumps({"keys": forged}))
    refused = cli("agency", "add", "school:3304001", "--name", "X", "--public-jwks", str(jwks),
                  ok=False)  # fmt: skip
    assert "directory_error" in refused


def test_seal_refuses_unreadable_inputs_with_a_reason(cli: Cli, tmp_path: Path) -> None:
    cli("agency", "add", "school:3304000", "--name", "Synthetic Primary")
    cli("agency", "add", "la:330", "--name", "LA 330")
    examples = tmp_path / "examples"
    cli("message", "example", "school.deletion_return", "--out", str(examples))
    payload = examples / "school.deletion_return.payload.json"
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    common = ["message", "seal", "--from", "school:3304000", "--to", "la:330",
              "--type", "school.deletion_return"]  # fmt: skip
    bad_payload = cli(*common, "--payload", str(broken), "--justification", str(payload), ok=False)
    assert "reason=malformed" in bad_payload
    wrong_reason = cli(*common, "--payload", str(payload), "--justification", str(payload),
                       ok=False)  # fmt: skip
    assert "reason=justification_invalid" in wrong_reason
