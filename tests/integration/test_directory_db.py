"""The directory, its migrations and the replay cache on SQLite and on PostgreSQL."""

import json
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine
from sqlmodel import SQLModel

from broker import errors
from broker.db import migrate
from broker.directory.export import export_directory, import_directory
from broker.directory.keystore import FileKeystore
from broker.directory.model import AgencyStatus, KeyStatus, KeyUse
from broker.directory.store import KeyPolicy, SqlDirectoryStore
from broker.envelope import SqlReplayCache
from tests.integration.conftest import Clock


@pytest.fixture
def store(engine: Engine, tmp_path: Path, clock: Clock) -> SqlDirectoryStore:
    return SqlDirectoryStore(engine, FileKeystore(tmp_path / "keystore"), clock=clock)


def test_migrations_match_the_tables_and_are_idempotent(engine: Engine) -> None:
    migrate(engine)  # a second run changes nothing and does not fail
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == []


def test_add_agency_keeps_private_keys_out_of_the_database(
    store: SqlDirectoryStore, engine: Engine, tmp_path: Path
) -> None:
    store.add_agency("school:3304000", "Synthetic Primary")
    snapshot = store.snapshot()
    assert [a.id for a in snapshot.agencies()] == ["school:3304000"]
    assert snapshot.agency("school:3304000").home_la == "330"
    keys = snapshot.public_keys()
    assert {k.use for k in keys} == {KeyUse.SIG, KeyUse.ENC}
    for key in keys:
        assert "d" not in key.jwk.as_dict(private=False)
        path = tmp_path / "keystore" / "school_3304000" / f"{key.kid}.jwk.json"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert "d" in json.loads(path.read_text())
    with engine.connect() as connection:
        dumped = str(connection.exec_driver_sql("select * from agency_key").fetchall())
    assert '"d"' not in dumped


def test_duplicate_and_unknown_agencies_are_refused(store: SqlDirectoryStore) -> None:
    store.add_agency("la:330", "LA")
    with pytest.raises(errors.AgencyExists):
        store.add_agency("la:330", "LA again")
    with pytest.raises(errors.AgencyNotFound):
        store.rotate_keys("la:331")
    with pytest.raises(errors.DirectoryError):
        store.add_agency("health:M85001", "GP with no home LA")


def test_rotation_overlaps_then_expires(store: SqlDirectoryStore, clock: Clock) -> None:
    store.add_agency("la:330", "LA")
    old = store.snapshot().current_key("la:330", KeyUse.SIG, clock.now)
    clock.now += timedelta(minutes=1)
    store.rotate_keys("la:330")
    snapshot = store.snapshot()
    new = snapshot.current_key("la:330", KeyUse.SIG, clock.now)
    assert new.kid != old.kid
    old_again = snapshot.public_key(old.kid)
    old_again.check_usable(clock.now, timedelta(0))  # still verifies during the overlap
    after_overlap = clock.now + KeyPolicy().rotation_overlap + timedelta(minutes=6)
    with pytest.raises(errors.ExpiredKey):
        old_again.check_usable(after_overlap, timedelta(minutes=5))


def test_suspend_reinstate_revoke(store: SqlDirectoryStore, clock: Clock) -> None:
    store.add_agency("housing:330-ta", "Temporary accommodation team")
    store.set_status("housing:330-ta", AgencyStatus.SUSPENDED)
    assert store.snapshot().agency("housing:330-ta").status is AgencyStatus.SUSPENDED
    store.set_status("housing:330-ta", AgencyStatus.ACTIVE)
    store.set_status("housing:330-ta", AgencyStatus.REVOKED)
    snapshot = store.snapshot()
    assert snapshot.agency("housing:330-ta").status is AgencyStatus.REVOKED
    assert {k.status for k in snapshot.public_keys()} == {KeyStatus.REVOKED}
    with pytest.raises(errors.DirectoryError):
        store.set_status("housing:330-ta", AgencyStatus.ACTIVE)


def test_revoke_one_key_takes_effect_at_once(store: SqlDirectoryStore, clock: Clock) -> None:
    store.add_agency("la:330", "LA")
    key = store.snapshot().current_key("la:330", KeyUse.SIG, clock.now)
    store.revoke_key(key.kid)
    with pytest.raises(errors.RevokedKey):
        store.snapshot().public_key(key.kid).check_usable(clock.now, timedelta(0))
    with pytest.raises(errors.UnknownKey):
        store.revoke_key("no-such-kid")


def test_signed_export_round_trips_and_refuses_tampering(
    store: SqlDirectoryStore, tmp_path: Path, clock: Clock
) -> None:
    for agency in ("hub:330", "la:330", "school:3304000"):
        store.add_agency(agency, agency)
    snapshot = store.snapshot()
    hub_kid = snapshot.current_key("hub:330", KeyUse.SIG, clock.now).kid
    hub_key = FileKeystore(tmp_path / "keystore").load("hub:330", hub_kid)
    text = export_directory(snapshot, "hub:330", hub_key, clock.now, serial=store.revision())

    result = import_directory(text, frozenset({hub_kid}), now=clock.now)
    imported, imported_serial = result.snapshot, result.serial
    assert [a.id for a in imported.agencies()] == [a.id for a in snapshot.agencies()]
    assert {k.kid for k in imported.public_keys()} == {k.kid for k in snapshot.public_keys()}

    with pytest.raises(errors.DirectorySignatureInvalid):
        import_directory(text, frozenset({"some-other-kid"}), now=clock.now)
    header, payload, signature = text.split(".")
    forged = payload[:-4] + ("AAAA" if payload[-4:] != "AAAA" else "BBBB")
    with pytest.raises(errors.DirectorySignatureInvalid):
        import_directory(f"{header}.{forged}.{signature}", frozenset({hub_kid}), now=clock.now)
    with pytest.raises(errors.DirectorySignatureInvalid):
        import_directory("not a directory", frozenset({hub_kid}), now=clock.now)
    with pytest.raises(errors.DirectorySignatureInvalid, match="expired"):
        import_directory(text, frozenset({hub_kid}), now=clock.now + timedelta(days=8))
    with pytest.raises(errors.DirectorySignatureInvalid, match="not newer"):
        import_directory(text, frozenset({hub_kid}), now=clock.now, newer_than=imported_serial)


def test_an_old_export_cannot_undo_a_revocation(
    store: SqlDirectoryStore, tmp_path: Path, clock: Clock
) -> None:
    for agency in ("hub:330", "la:330"):
        store.add_agency(agency, agency)
    hub_kid = store.snapshot().current_key("hub:330", KeyUse.SIG, clock.now).kid
    hub_key = FileKeystore(tmp_path / "keystore").load("hub:330", hub_kid)
    pins = frozenset({hub_kid})
    before = export_directory(
        store.snapshot(), "hub:330", hub_key, clock.now, serial=store.revision()
    )
    store.set_status("la:330", AgencyStatus.REVOKED)
    after = export_directory(
        store.snapshot(), "hub:330", hub_key, clock.now, serial=store.revision()
    )
    held = import_directory(after, pins, now=clock.now)
    assert held.snapshot.agency("la:330").status is AgencyStatus.REVOKED
    with pytest.raises(errors.DirectorySignatureInvalid, match="not newer"):
        import_directory(before, pins, now=clock.now, newer_than=held.serial)


def test_replay_cache_remembers_once_and_purges(engine: Engine, clock: Clock) -> None:
    cache = SqlReplayCache(engine, clock)
    later = clock.now + timedelta(days=1)
    assert cache.remember("school:3304000", "m-1", later) is True
    assert cache.remember("school:3304000", "m-1", later) is False
    assert cache.remember("la:330", "m-1", later) is True  # ids are unique per sender
    clock.now += timedelta(days=2)
    assert cache.purge_expired() == 2
    assert cache.remember("school:3304000", "m-1", later) is True


def test_a_second_rotation_does_not_extend_retired_keys(
    store: SqlDirectoryStore, clock: Clock
) -> None:
    store.add_agency("la:330", "LA")
    first = store.snapshot().current_key("la:330", KeyUse.SIG, clock.now)
    store.rotate_keys("la:330")
    retired_at = store.snapshot().public_key(first.kid).not_after
    clock.now += timedelta(days=20)
    store.rotate_keys("la:330")
    assert store.snapshot().public_key(first.kid).not_after == retired_at


def test_a_revoked_agency_cannot_get_new_keys(store: SqlDirectoryStore) -> None:
    store.add_agency("la:330", "LA")
    store.set_status("la:330", AgencyStatus.REVOKED)
    with pytest.raises(errors.DirectoryError):
        store.rotate_keys("la:330")
    assert {k.status for k in store.snapshot().public_keys()} == {KeyStatus.REVOKED}


def test_the_hub_gets_a_signing_key_only(store: SqlDirectoryStore, clock: Clock) -> None:
    store.add_agency("hub:330", "LA hub")
    assert {k.use for k in store.snapshot().public_keys()} == {KeyUse.SIG}
    with pytest.raises(errors.KeyNotAvailable):
        store.snapshot().current_key("hub:330", KeyUse.ENC, clock.now)
