"""`cme-broker demo` (the README's main command) and its variants, end to end on the real
RabbitMQ with two LA hubs."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.cli import app

pytestmark = pytest.mark.rabbitmq
runner = CliRunner()


@pytest.mark.parametrize("variant", ["found", "nowhere", "restricted", "cp-plan"])
def test_the_demo_and_its_variants(
    variant: str, tmp_path: Path, rabbitmq_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CME_RABBITMQ_URL", rabbitmq_url)
    monkeypatch.setenv("COLUMNS", "200")
    result = runner.invoke(app, ["demo", "--variant", variant, "--data-dir", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    assert "demo complete" in result.output
    assert "FAILED" not in result.output
    assert "every message receipted (0 missing)" in result.output
    assert result.output.count("ledger verify: ledger verified") == 2
    expected = {
        "found": "closed: receiving LA accepted",
        "nowhere": "escalated to the CME lead",
        "restricted": "address withheld",
        "cp-plan": "same-day safeguarding escalation",
    }[variant]
    assert expected in result.output


def test_the_demo_needs_a_fresh_data_directory(tmp_path: Path) -> None:
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "cme.db").write_text("x")
    result = runner.invoke(app, ["demo", "--data-dir", str(tmp_path / "used")])
    assert result.exit_code == 2
