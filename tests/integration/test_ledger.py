"""The justification ledger on SQLite and on PostgreSQL: appends, tamper detection, the
append-only triggers, two concurrent appenders, export, history and the CLI.

Tampering goes around the triggers the way a DBA could: on SQLite by dropping them, on
PostgreSQL by disabling them as the superuser. Every test uses synthetic metadata only.
"""

import csv
import io
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from pydantic import ValidationError
from sqlalchemy import Engine, Executable, delete, insert, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel
from typer.testing import CliRunner

from broker.db import make_engine, migrate
from broker.directory.keystore import FileKeystore
from broker.directory.model import DirectorySnapshot, KeyUse
from broker.directory.store import SqlDirectoryStore
from broker.ledger import (
    GENESIS_HASH,
    CheckpointSigner,
    CheckpointUnavailable,
    LedgerEvent,
    LedgerFilter,
    LedgerRecord,
    Problem,
    SqlLedger,
    VerifyReport,
)
from broker.ledger.chain import entry_hash
from broker.ledger.rows import CHECKPOINT, ENTRY, entry_select
from broker.ledger.store import HISTORY_CHUNK
from broker.ledger.verify import verify_ledger
from schemas.examples.justifications import example_justification
from tests.clock import NOW, Clock

HUB, LA, SCHOOL, HEALTH = "hub:330", "la:330", "school:3304000", "health:M85001"
SUBJECT_A, SUBJECT_B = "Q2hpbGRBcHNldWRvbnltMQ", "c3ViamVjdF9ic2V1ZG8tMg"


@pytest.fixture
def store(engine: Engine, tmp_path: Path, clock: Clock) -> SqlDirectoryStore:
    store = SqlDirectoryStore(engine, FileKeystore(tmp_path / "keystore"), clock=clock)
    for agency in (HUB, LA, SCHOOL):
        store.add_agency(agency, agency)
    return store


@pytest.fixture
def directory(store: SqlDirectoryStore) -> DirectorySnapshot:
    return store.snapshot()


def signer_for(agency: str, directory: DirectorySnapshot, tmp_path: Path) -> CheckpointSigner:
    kid = directory.current_key(agency, KeyUse.SIG, NOW).kid
    return CheckpointSigner(agency, kid, FileKeystore(tmp_path / "keystore").load(agency, kid))


@pytest.fixture
def signer(directory: DirectorySnapshot, tmp_path: Path) -> CheckpointSigner:
    return signer_for(HUB, directory, tmp_path)


MakeLedger = Callable[..., SqlLedger]


@pytest.fixture
def make_ledger(engine: Engine, signer: CheckpointSigner, clock: Clock) -> MakeLedger:
    def make(
        checkpoint_every: int = 50, on: Engine | None = None, actor: str = "hub:330@a/1"
    ) -> SqlLedger:
        return SqlLedger(on or engine, signer, clock, actor, checkpoint_every)

    return make


def record(i: int, **changes: Any) -> LedgerRecord:
    """The i-th synthetic record: a school's deletion return routed to the LA."""
    fields: dict[str, Any] = {
        "event": LedgerEvent.ROUTED,
        "message_id": str(uuid.UUID(int=i + 1)),
        "sender": SCHOOL,
        "recipient": LA,
        "message_type": "school.deletion_return",
        "schema_version": 1,
        "subject_refs": (SUBJECT_A,),
        "justification": None,
        "jwe_sha256": "d" * 43,
        "rule": "cme-area-330 v1: school statutory returns",
    }
    fields.update(changes)
    return LedgerRecord(**fields)


def fill(ledger: SqlLedger, n: int) -> None:
    ledger.append_many([record(i) for i in range(n)])


def tamper(engine: Engine, *statements: Executable | str) -> None:
    """Run SQL around the append-only triggers, as a DBA with superuser rights could."""
    tables = ("ledger_entry", "ledger_checkpoint")
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as connection:
        if postgres:
            for table in tables:
                connection.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        else:  # drop the triggers, and put them back as they were afterwards
            triggers = connection.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
            ).all()
            for name, _ in triggers:
                connection.exec_driver_sql(f"DROP TRIGGER {name}")
        for statement in statements:
            if isinstance(statement, str):
                connection.exec_driver_sql(statement)
            else:
                connection.execute(statement)
        if postgres:
            for table in tables:
                connection.exec_driver_sql(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        else:
            for _, create in triggers:
                connection.exec_driver_sql(create)


def entry_row(engine: Engine, seq: int) -> dict[str, Any]:
    with engine.connect() as connection:
        row = connection.execute(entry_select().where(ENTRY.c.seq == seq)).one()
    return dict(row._mapping)


def rechain_from(engine: Engine, seq: int) -> None:
    """What a careful forger does: recompute every hash from `seq` on so the chain links."""
    prev = entry_row(engine, seq - 1)["entry_hash"] if seq > 1 else GENESIS_HASH
    with engine.connect() as connection:
        rows = connection.execute(entry_select().where(ENTRY.c.seq >= seq)).all()
    updates = []
    for row in rows:
        fields = dict(row._mapping)
        new_hash = entry_hash(prev, fields)
        updates.append(at(fields["seq"]).values(prev_hash=prev, entry_hash=new_hash))
        prev = new_hash
    tamper(engine, *updates)


def at(seq: int) -> Any:
    """UPDATE of the entry `seq` (add `.values(...)`)."""
    return update(ENTRY).where(ENTRY.c.seq == seq)


def checkpoint_at(seq: int) -> Any:
    """UPDATE of the checkpoint at `seq` (add `.values(...)`)."""
    return update(CHECKPOINT).where(CHECKPOINT.c.seq == seq)


def assert_bad(report: VerifyReport, seq: int, problem: Problem) -> None:
    assert not report.ok, report
    assert (report.first_bad_seq, report.problem) == (seq, problem), report.message
    assert str(seq) in report.message


def test_migration_matches_the_tables(engine: Engine) -> None:
    migrate(engine)  # idempotent
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == []


def test_append_chains_and_verifies(
    make_ledger: MakeLedger, directory: DirectorySnapshot, engine: Engine
) -> None:
    ledger = make_ledger(checkpoint_every=50)
    assert ledger.verify(directory).ok  # empty
    justification = example_justification("school.deletion_return", sender=SCHOOL, recipient=LA)
    assert ledger.append(record(0, justification=justification)) == 1
    assert ledger.append_many([record(i) for i in range(1, 120)]) == list(range(2, 121))
    report = ledger.verify(directory)
    assert report == VerifyReport(
        True, 120, 2, None, None, "ledger verified: 120 entries, 2 checkpoints"
    )
    assert [c.seq for c in ledger.checkpoints()] == [50, 100]
    first = entry_row(engine, 1)
    assert first["prev_hash"] == GENESIS_HASH
    assert json.loads(first["justification"]) == justification.model_dump(mode="json")
    assert entry_row(engine, 2)["prev_hash"] == first["entry_hash"]
    # Small pages: the verifier streams, and page boundaries change nothing.
    assert verify_ledger(engine, directory, (HUB,), batch=7).entries_checked == 120


def test_checkpoint_on_demand(
    make_ledger: MakeLedger, engine: Engine, clock: Clock, directory: DirectorySnapshot
) -> None:
    ledger = make_ledger(checkpoint_every=1000)
    assert ledger.checkpoint() is None  # nothing to sign yet
    fill(ledger, 3)
    checkpoint = ledger.checkpoint()
    assert checkpoint is not None
    assert (checkpoint.seq, checkpoint.entry_hash) == (3, entry_row(engine, 3)["entry_hash"])
    assert ledger.checkpoint() == checkpoint  # idempotent at the same head
    assert ledger.verify(directory).checkpoints_checked == 1
    with pytest.raises(CheckpointUnavailable):
        SqlLedger(engine, None, clock).checkpoint()


def test_modified_entry_is_named(
    make_ledger: MakeLedger, engine: Engine, directory: DirectorySnapshot
) -> None:
    ledger = make_ledger()
    fill(ledger, 120)
    tamper(engine, at(37).values(recipient=HEALTH))
    assert_bad(ledger.verify(directory), 37, Problem.HASH_MISMATCH)


def test_modified_and_rehashed_entry_breaks_the_link(
    make_ledger: MakeLedger, engine: Engine, directory: DirectorySnapshot
) -> None:
    ledger = make_ledger()
    fill(ledger, 120)
    fields = entry_row(engine, 37) | {"recipient": HEALTH}
    forged = entry_hash(fields["prev_hash"], fields)
    tamper(engine, at(37).values(recipient=HEALTH, entry_hash=forged))
    assert_bad(ledger.verify(directory), 38, Problem.CHAIN_BROKEN)


def test_rewritten_history_is_caught_by_the_checkpoint(
    make_ledger: MakeLedger, engine: Engine, directory: DirectorySnapshot
) -> None:
    ledger = make_ledger()
    fill(ledger, 120)
    tamper(engine, at(60).values(recipient=HEALTH))
    rechain_from(engine, 60)  # the chain links again from 60 to the end...
    report = ledger.verify(directory)
    assert_bad(report, 100, Problem.CHECKPOINT_MISMATCH)  # ...but not to the signed head
    assert "after 50 up to 100" in report.message


def test_deleted_entry_is_named(
    make_ledger: MakeLedger, engine: Engine, directory: DirectorySnapshot
) -> None:
    ledger = make_ledger()
    fill(ledger, 120)
    tamper(engine, delete(ENTRY).where(ENTRY.c.seq == 50))
    assert_bad(ledger.verify(directory), 50, Problem.SEQ_GAP)
    # The gap straddling a page boundary is found the same way.
    assert verify_ledger(engine, directory, (HUB,), batch=7).first_bad_seq == 50


def test_reordered_pair_is_named(
    make_ledger: MakeLedger, engine: Engine, directory: DirectorySnapshot
) -> None:
    ledger = make_ledger()
    fill(ledger, 120)
    tamper(
        engine,
        "UPDATE ledger_entry SET seq = -1 WHERE seq = 20",
        "UPDATE ledger_entry SET seq = 20 WHERE seq = 21",
        "UPDATE ledger_entry SET seq = 21 WHERE seq = -1",
    )
    assert_bad(ledger.verify(directory), 20, Problem.CHAIN_BROKEN)


def test_inserted_entry_is_named(
    make_ledger: MakeLedger, engine: Engine, directory: DirectorySnapshot
) -> None:
    ledger = make_ledger()
    fill(ledger, 120)
    # Make room after entry 50 and insert a forged entry that links correctly to it.
    forged = entry_row(engine, 51) | {"seq": 51, "recipient": HEALTH}
    forged["entry_hash"] = entry_hash(entry_row(engine, 50)["entry_hash"], forged)
    tamper(
        engine,
        "UPDATE ledger_entry SET seq = seq + 1000 WHERE seq > 50",
        "UPDATE ledger_entry SET seq = seq - 999 WHERE seq > 1000",
    )
    with engine.begin() as connection:  # inserting needs no bypass: the table takes inserts
        connection.execute(insert(ENTRY).values(**forged))
    # The forged 51 is self-consistent; the old 51, now 52, no longer links to it.
    assert_bad(ledger.verify(directory), 52, Problem.CHAIN_BROKEN)


def test_truncated_tail_is_detected_against_the_last_checkpoint(
    make_ledger: MakeLedger, engine: Engine, directory: DirectorySnapshot
) -> None:
    ledger = make_ledger(checkpoint_every=50)
    fill(ledger, 60)
    tamper(engine, delete(ENTRY).where(ENTRY.c.seq >= 40))
    report = ledger.verify(directory)
    assert_bad(report, 40, Problem.TRUNCATED)
    assert report.entries_checked == 39


def test_hole_below_the_checkpoint_is_a_gap(
    make_ledger: MakeLedger, engine: Engine, directory: DirectorySnapshot
) -> None:
    ledger = make_ledger(checkpoint_every=50)
    fill(ledger, 60)
    tamper(engine, delete(ENTRY).where(ENTRY.c.seq.between(40, 55)))
    assert_bad(ledger.verify(directory), 40, Problem.SEQ_GAP)


def test_tail_after_the_last_checkpoint_needs_a_fresh_checkpoint(
    make_ledger: MakeLedger, engine: Engine, directory: DirectorySnapshot
) -> None:
    ledger = make_ledger(checkpoint_every=50)
    fill(ledger, 60)
    tamper(engine, delete(ENTRY).where(ENTRY.c.seq > 55))
    assert ledger.verify(directory).ok  # the documented limit: nothing vouched for 56..60
    fill(ledger, 5)  # 56..60 again, under new hashes
    assert ledger.checkpoint() is not None
    tamper(engine, delete(ENTRY).where(ENTRY.c.seq > 57))
    assert_bad(ledger.verify(directory), 58, Problem.TRUNCATED)


def test_forged_checkpoints_are_named(
    make_ledger: MakeLedger, engine: Engine, directory: DirectorySnapshot, tmp_path: Path
) -> None:
    ledger = make_ledger(checkpoint_every=50)
    fill(ledger, 120)
    school = signer_for(SCHOOL, directory, tmp_path)  # a real key, but not the hub's
    by_school = school.sign(100, entry_row(engine, 100)["entry_hash"], NOW)
    tamper(engine, checkpoint_at(100).values(signature=by_school.signature, kid=by_school.kid))
    assert_bad(ledger.verify(directory), 100, Problem.CHECKPOINT_SIGNATURE_INVALID)

    header, payload, signature = ledger.checkpoints()[0].signature.split(".")
    flipped = ("B" if signature[0] == "A" else "A") + signature[1:]
    forged = f"{header}.{payload}.{flipped}"
    tamper(engine, checkpoint_at(50).values(signature=forged))
    report = ledger.verify(directory)
    assert_bad(report, 50, Problem.CHECKPOINT_SIGNATURE_INVALID)
    assert "does not verify" in report.message


def test_checkpoint_row_must_match_what_was_signed(
    make_ledger: MakeLedger, engine: Engine, directory: DirectorySnapshot
) -> None:
    ledger = make_ledger(checkpoint_every=50)
    fill(ledger, 60)
    tamper(engine, checkpoint_at(50).values(entry_hash="x" * 43))
    assert_bad(ledger.verify(directory), 50, Problem.CHECKPOINT_SIGNATURE_INVALID)


def test_revoked_hub_key_vouches_for_nothing(
    make_ledger: MakeLedger, store: SqlDirectoryStore, signer: CheckpointSigner
) -> None:
    ledger = make_ledger(checkpoint_every=50)
    fill(ledger, 60)
    store.revoke_key(signer.kid)
    assert_bad(ledger.verify(store.snapshot()), 50, Problem.CHECKPOINT_SIGNATURE_INVALID)


def test_tables_refuse_update_and_delete(make_ledger: MakeLedger, engine: Engine) -> None:
    fill(make_ledger(checkpoint_every=1), 2)
    statements = [
        "UPDATE ledger_entry SET sender = 'la:331' WHERE seq = 1",
        "DELETE FROM ledger_entry WHERE seq = 2",
        "UPDATE ledger_checkpoint SET kid = 'x' WHERE seq = 1",
        "DELETE FROM ledger_checkpoint",
    ]
    if engine.dialect.name == "postgresql":
        statements += ["TRUNCATE ledger_entry", "TRUNCATE ledger_checkpoint"]
    for statement in statements:
        with pytest.raises(DBAPIError, match="ledger is append-only"), engine.begin() as c:
            c.exec_driver_sql(statement)
    with engine.connect() as connection:
        count = connection.exec_driver_sql("SELECT count(*) FROM ledger_entry").scalar()
    assert count == 2


def test_two_replicas_appending_at_once_keep_one_chain(
    db_url: str, signer: CheckpointSigner, clock: Clock, directory: DirectorySnapshot
) -> None:
    """Two router replicas, each with its own engine (its own connections), 200 appends each."""
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def replica(name: str) -> None:
        engine = make_engine(db_url)
        try:
            ledger = SqlLedger(engine, signer, clock, f"hub:330@{name}", checkpoint_every=100)
            start.wait()
            for i in range(200):
                ledger.append(record(i, rule=f"replica {name}"))
                if i % 10 == 9:
                    # SQLite's busy handler backs off while the other holds the write lock; a
                    # pause now and then lets the waiter in, so the two really interleave.
                    time.sleep(0.01)
        except BaseException as exc:  # reported below: a thread's exception is otherwise lost
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=replica, args=(n,)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    engine = make_engine(db_url)
    try:
        ledger = SqlLedger(engine, signer, clock)
        report = ledger.verify(directory)
        with engine.connect() as connection:
            in_order = [
                a
                for (a,) in connection.exec_driver_sql(
                    "SELECT actor FROM ledger_entry ORDER BY seq"
                )
            ]
    finally:
        engine.dispose()
    assert report == VerifyReport(
        True, 400, 4, None, None, "ledger verified: 400 entries, 4 checkpoints"
    )
    assert Counter(in_order) == {"hub:330@a": 200, "hub:330@b": 200}
    switches = sum(1 for x, y in pairwise(in_order) if x != y)
    assert switches > 1, "the replicas did not overlap: the test proved nothing"


def _export(ledger: SqlLedger, fmt: str, **filters: Any) -> list[dict[str, Any]]:
    out = io.StringIO()
    count = ledger.export(LedgerFilter(**filters), fmt, out)  # type: ignore[arg-type]
    out.seek(0)
    rows: list[dict[str, Any]]
    if fmt == "csv":
        rows = list(csv.DictReader(out))
        for row in rows:
            row["seq"] = int(row["seq"])
            row["subject_refs"] = json.loads(row["subject_refs"])
    else:
        rows = json.load(out)
    assert len(rows) == count
    return rows


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_filters(make_ledger: MakeLedger, clock: Clock, fmt: str) -> None:
    ledger = make_ledger()
    justification = example_justification("cme.locate_enquiry", sender=LA, recipient=HEALTH)
    ledger.append(record(1))  # 1: school -> LA, subject A, 09:00
    clock.now += timedelta(hours=1)
    ledger.append(  # 2: LA -> health, subjects A and B, 10:00
        record(
            2,
            sender=LA,
            recipient=HEALTH,
            message_type="cme.locate_enquiry",
            subject_refs=(SUBJECT_B, SUBJECT_A),
            justification=justification,
        )
    )
    clock.now += timedelta(hours=1)
    ledger.append(  # 3: refusal, school -> health, subject B, 11:00
        record(
            3,
            event=LedgerEvent.REFUSED,
            recipient=HEALTH,
            subject_refs=(SUBJECT_B,),
            reason_code="no_agreement",
            rule="no agreement permits school -> health",
        )
    )

    def seqs(**filters: Any) -> list[int]:
        return [row["seq"] for row in _export(ledger, fmt, **filters)]

    assert seqs() == [1, 2, 3]
    assert seqs(agency=HEALTH) == [2, 3]
    assert seqs(agency=SCHOOL) == [1, 3]
    assert seqs(message_type="cme.locate_enquiry") == [2]
    assert seqs(subject=SUBJECT_A) == [1, 2]
    assert seqs(subject=SUBJECT_B) == [2, 3]
    assert seqs(subject="Q2hpbGRBcHNldWRvbnltM_") == []  # "_" is not a wildcard
    assert seqs(since=NOW + timedelta(hours=1)) == [2, 3]
    assert seqs(until=NOW + timedelta(hours=1)) == [1]
    naive = (NOW + timedelta(minutes=30)).replace(tzinfo=None)  # taken as UTC
    assert seqs(since=naive, until=NOW + timedelta(hours=1, minutes=30)) == [2]
    assert seqs(agency=HEALTH, subject=SUBJECT_A) == [2]

    (second,) = _export(ledger, fmt, message_type="cme.locate_enquiry")
    assert second["subject_refs"] == [SUBJECT_B, SUBJECT_A]
    assert second["recorded_at"] == "2026-11-02T10:00:00+00:00"
    exported = second["justification"]
    exported = json.loads(exported) if fmt == "csv" else exported
    assert exported == justification.model_dump(mode="json")


def test_history_in_seq_order(make_ledger: MakeLedger, clock: Clock) -> None:
    ledger = make_ledger()
    message, receipt, other = (str(uuid.uuid4()) for _ in range(3))
    ledger.append(record(0, message_id=other))
    ledger.append(record(0, message_id=message))
    ledger.append(record(0, message_id=message, event=LedgerEvent.DELIVERED))
    clock.now += timedelta(seconds=5)
    ledger.append(
        record(0, message_id=message, event=LedgerEvent.RECEIPTED, related_message_id=receipt)
    )
    history = ledger.history(message)
    assert [(e.seq, e.event) for e in history] == [
        (2, "routed"),
        (3, "delivered"),
        (4, "receipted"),
    ]
    assert history[-1].recorded_at == NOW + timedelta(seconds=5)
    assert [e.seq for e in ledger.history(receipt)] == [4]
    assert ledger.history(str(uuid.uuid4())) == []


def test_records_hold_pseudonyms_only() -> None:
    with pytest.raises(ValidationError):
        record(0, subject_refs=("Jane Synthetic 2014-03-01",))
    with pytest.raises(ValidationError):
        record(0, payload={"name": "x"})
    assert record(0, message_id=uuid.UUID(int=7)).message_id == str(uuid.UUID(int=7))


def test_cli_verify_export_checkpoint_track(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import typer

    from broker.app import Container
    from broker.cli.context import set_data_dir
    from broker.cli.ledger import ledger_app, track
    from broker.ledger import ledger_for
    from broker.settings import Settings

    monkeypatch.delenv("CME_DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    data = tmp_path / "data"
    set_data_dir(data)
    app = typer.Typer()
    app.add_typer(ledger_app, name="ledger")
    app.command("track")(track)
    runner = CliRunner()

    def cli(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, list(args))
        output = result.output + (result.stderr if result.stderr_bytes is not None else "")
        assert result.exit_code == code, output
        return output

    container = Container(Settings(data_dir=data))
    try:
        ledger = ledger_for(container, checkpoint_every=10)
        message = str(uuid.UUID(int=5))
        fill(ledger, 25)
        receipt = record(4, event=LedgerEvent.RECEIPTED, related_message_id=str(uuid.uuid4()))
        ledger.append(receipt)

        assert "ledger verified: 26 entries, 2 checkpoints" in cli("ledger", "verify")
        assert "checkpoint at entry 26" in cli("ledger", "checkpoint")
        tracked = cli("track", message)
        assert "routed" in tracked
        assert "receipted" in tracked
        assert "no ledger entries" in cli("track", str(uuid.uuid4()), code=1)

        out = tmp_path / "export.json"
        cli("ledger", "export", "--format", "json", "--agency", SCHOOL, "--out", str(out))
        assert len(json.loads(out.read_text())) == 26
        printed = cli("ledger", "export", "--since", "2999-01-01")
        assert "\nseq,recorded_at,event," in "\n" + printed
        assert "exported 0 entries" in printed
        assert "--since" in cli("ledger", "export", "--since", "yesterday", code=2)

        tamper(container.engine, at(7).values(rule="x"))
        failed = cli("ledger", "verify", code=1)
        assert "first bad entry 7 (hash_mismatch)" in failed
    finally:
        set_data_dir(None)
        container.engine.dispose()


def test_histories_of_many_ids_are_complete_ordered_and_unduplicated(
    make_ledger: MakeLedger,
) -> None:
    """More ids than one query binds (a batch of batched receipts): each message's history
    is whole, in seq order, with an entry that matches in two chunks listed once."""
    ledger = make_ledger(checkpoint_every=100_000)
    n = HISTORY_CHUNK * 2 + 10
    fill(ledger, n)
    receipt = str(uuid.uuid4())
    first, last = str(uuid.UUID(int=1)), str(uuid.UUID(int=n))
    # One receipt answering the first and the last message (ids in different chunks).
    ledger.append_many(
        [record(0, event=LedgerEvent.RECEIPTED, message_id=receipt, related_message_id=m)
         for m in (first, last)]
    )  # fmt: skip
    ids = [str(uuid.UUID(int=i + 1)) for i in range(n)] + [receipt]
    found = ledger.histories(ids)
    assert len(found) == n + 1
    assert [e.event for e in found[first]] == [LedgerEvent.ROUTED, LedgerEvent.RECEIPTED]
    assert [e.event for e in found[last]] == [LedgerEvent.ROUTED, LedgerEvent.RECEIPTED]
    assert [e.related_message_id for e in found[receipt]] == [first, last]
    assert all(
        len(entries) == 1 for key, entries in found.items() if key not in (first, last, receipt)
    )
