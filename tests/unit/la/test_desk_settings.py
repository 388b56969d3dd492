"""Desk settings: CME_DESK_ variables, keys checked and never printed, no placeholders in
production."""

import pytest
from pydantic import ValidationError

from adapters.la.protect import Binding, new_key
from adapters.la.settings import DeskSettings

VARIABLES = (
    "CME_DESK_ENVIRONMENT",
    "CME_DESK_FIELD_KEY",
    "CME_DESK_FIELD_KEY_ID",
    "CME_DESK_RETIRED_FIELD_KEYS",
    "CME_DESK_INDEX_KEY",
)


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_defaults_are_embedded_and_work() -> None:
    settings = DeskSettings()
    protector = settings.protector()
    where = Binding("desk_case", "closure_evidence", "CME-330-2026-000001")
    assert protector.cipher.open(protector.cipher.seal("x", where), where) == "x"


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CME_DESK_LA_CODE", "201")
    assert DeskSettings().la_code == "201"


def test_production_refuses_placeholder_and_shared_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CME_DESK_ENVIRONMENT", "production")
    with pytest.raises(ValidationError, match="CME_DESK_FIELD_KEY"):
        DeskSettings()
    key = new_key()
    monkeypatch.setenv("CME_DESK_FIELD_KEY", key)
    with pytest.raises(ValidationError, match="CME_DESK_INDEX_KEY"):
        DeskSettings()
    monkeypatch.setenv("CME_DESK_INDEX_KEY", key)
    with pytest.raises(ValidationError, match="must differ"):
        DeskSettings()
    monkeypatch.setenv("CME_DESK_INDEX_KEY", new_key())
    assert DeskSettings().environment == "production"


def test_a_bad_key_is_refused_without_being_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CME_DESK_FIELD_KEY", "dG9vLXNob3J0LXNlY3JldA")
    with pytest.raises(ValidationError) as refused:
        DeskSettings()
    assert "dG9vLXNob3J0LXNlY3JldA" not in str(refused.value)
    monkeypatch.delenv("CME_DESK_FIELD_KEY")
    key = new_key()
    monkeypatch.setenv("CME_DESK_INDEX_KEY", key)
    assert key not in repr(DeskSettings())


def test_retired_keys_still_open_old_values(monkeypatch: pytest.MonkeyPatch) -> None:
    old_key = new_key()
    monkeypatch.setenv("CME_DESK_FIELD_KEY", old_key)
    where = Binding("desk_event", "why", "f" * 32)
    token = DeskSettings().protector().cipher.seal("why", where)
    monkeypatch.setenv("CME_DESK_FIELD_KEY", new_key())
    monkeypatch.setenv("CME_DESK_FIELD_KEY_ID", "k2")
    monkeypatch.setenv("CME_DESK_RETIRED_FIELD_KEYS", f'{{"k1": "{old_key}"}}')
    rotated = DeskSettings().protector().cipher
    assert rotated.current_key_id == "k2"
    assert rotated.open(token, where) == "why"
