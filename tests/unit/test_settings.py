"""Settings: CME_ environment variables, defaults, and no placeholder secrets in production."""

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from adapters.housing.settings import HousingSettings
from adapters.social_care.settings import SocialCareSettings
from broker.db import normalise_url
from broker.settings import Settings


def test_defaults_are_embedded_and_local(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CME_DATA_DIR", "CME_DATABASE_URL", "CME_RABBITMQ_URL", "CME_KEYSTORE_DIR"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.data_dir == Path("./var")
    assert settings.resolved_database_url.startswith("sqlite:///")
    assert settings.resolved_database_url.endswith("/var/cme.db")
    assert settings.rabbitmq_url.get_secret_value() == "amqp://guest:guest@127.0.0.1:5672/"
    assert settings.resolved_keystore_dir == Path("./var/keystore")


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CME_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CME_DATABASE_URL", "postgresql://cme@db.internal/cme")
    monkeypatch.setenv("CME_KEYSTORE_DIR", str(tmp_path / "keys"))
    settings = Settings()
    assert settings.data_dir == tmp_path
    assert normalise_url(settings.resolved_database_url).startswith("postgresql+psycopg://")
    assert settings.resolved_keystore_dir == tmp_path / "keys"


def test_secrets_do_not_show_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CME_PSEUDONYM_KEY", "s3cret-value-that-must-not-print-0000")
    assert "s3cret" not in repr(Settings())


def test_production_refuses_placeholder_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CME_ENVIRONMENT", "production")
    monkeypatch.delenv("CME_PSEUDONYM_KEY", raising=False)
    with pytest.raises(ValidationError, match="CME_PSEUDONYM_KEY"):
        Settings()
    monkeypatch.setenv("CME_PSEUDONYM_KEY", "x" * 40)
    with pytest.raises(ValidationError, match="guest account"):
        Settings()
    monkeypatch.setenv("CME_RABBITMQ_URL", "amqps://hub330:pw@rabbit.internal:5671/")
    assert Settings().environment == "production"


def test_a_rejected_secret_is_not_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CME_ENVIRONMENT", "production")
    monkeypatch.setenv("CME_PSEUDONYM_KEY", "short-secret-value")
    with pytest.raises(ValidationError) as refused:
        Settings()
    assert "short-secret-value" not in str(refused.value)


def test_in_production_no_agency_has_a_gateway_mailbox_until_listed() -> None:
    production: dict[str, Any] = {
        "environment": "production",
        "pseudonym_key": "p" * 40,
        "rabbitmq_url": "amqp://cme-gateway@rabbit/",
    }
    assert Settings(**production).gateway_mailboxes == frozenset()
    listed = Settings(**production, gateway_mailbox_agencies=["health:M85001"])
    assert listed.gateway_mailboxes == frozenset({"health:M85001"})
    assert Settings().gateway_mailboxes is None  # development: any agency


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ({"records_table": "tenancies"}, "set together"),  # a table without its database
        ({"records_database_url": "sqlite:///x.db"}, "set together"),  # and the reverse
        (
            {
                "records_csv": "x.csv",
                "records_database_url": "sqlite:///x.db",
                "records_table": "t",
            },
            "not both",
        ),
    ],
)
def test_a_responders_records_come_from_one_source(given: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        HousingSettings(**given)
    with pytest.raises(ValidationError, match=problem):
        SocialCareSettings(**given)


def test_a_responder_reads_its_configured_records(tmp_path: Path) -> None:
    calls: list[tuple[str, ...]] = []
    csv_settings = HousingSettings(records_csv=tmp_path / "x.csv")
    assert csv_settings.read_records(lambda p: calls.append(("csv", p.name)), _no_sql) is None
    sql = SocialCareSettings(records_database_url="sqlite:///x.db", records_table="children")
    sql.read_records(_no_csv, lambda url, table: calls.append(("sql", url, table)))
    assert calls == [("csv", "x.csv"), ("sql", "sqlite:///x.db", "children")]
    assert HousingSettings().read_records(_no_csv, _no_sql) is None


def _no_csv(_path: Path) -> None:
    raise AssertionError("no CSV is configured")


def _no_sql(_url: str, _table: str) -> None:
    raise AssertionError("no table is configured")
