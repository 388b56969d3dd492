"""`SqlLedger`: appends (serialised across processes), checkpoints, verification, export and
message history, on SQLite or PostgreSQL."""

from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any, Final, TextIO

from sqlalchemy import BindParameter, Connection, Engine, bindparam, insert, or_, select, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from broker.clock import Clock, utc_now
from broker.directory.model import KeyDirectory
from broker.ledger.chain import GENESIS_HASH, entry_hash
from broker.ledger.checkpoint import CheckpointSigner
from broker.ledger.errors import CheckpointUnavailable, LedgerError, LedgerUnavailable
from broker.ledger.export import ExportFormat, export_entries
from broker.ledger.model import (
    LedgerCheckpoint,
    LedgerEntry,
    LedgerFilter,
    LedgerRecord,
    VerifyReport,
)
from broker.ledger.rows import (
    CHECKPOINT,
    ENTRY,
    checkpoint_select,
    entry_select,
    records_columns,
    to_checkpoint,
    to_entry,
)
from broker.ledger.verify import verify_ledger

# Every appender on a PostgreSQL database takes this transaction-scoped advisory lock before
# reading the head, so appends are serialised across router replicas. ASCII "cmeLEDGR".
ADVISORY_LOCK_KEY: Final = 0x636D_654C_4544_4752
_DIALECTS: Final = frozenset({"sqlite", "postgresql"})


HISTORY_CHUNK = 1000
"""Ids per history query: 2,000 bound parameters, well inside every SQLite build's limit."""

# Built once: the router runs these for every batch, often of one message, and building and
# caching a statement each time cost as much as running it.
_IDS: BindParameter[str] = bindparam("ids", expanding=True)
_ABOUT = entry_select().where(
    or_(ENTRY.c.message_id.in_(_IDS), ENTRY.c.related_message_id.in_(_IDS))
)
_HEAD = select(ENTRY.c.seq, ENTRY.c.entry_hash).order_by(ENTRY.c.seq.desc()).limit(1)
_INSERT = insert(ENTRY)


class SqlLedger:
    """The justification ledger in the broker's database.

    Appends are serialised across processes: on PostgreSQL by an advisory lock held for the
    transaction, on SQLite by `BEGIN IMMEDIATE` (the database write lock, waited for up to
    the engine's 30 s busy timeout). Inside that, the head is read, the entries are chained
    onto it and inserted, and a checkpoint is signed whenever a seq reaches a multiple of
    `checkpoint_every` (when a signer is configured), all in one transaction.

    `actor` names the hub process or router replica that records the entries.
    """

    def __init__(
        self,
        engine: Engine,
        signer: CheckpointSigner | None,
        clock: Clock = utc_now,
        actor: str = "hub",
        checkpoint_every: int = 1000,
    ) -> None:
        if engine.dialect.name not in _DIALECTS:
            raise LedgerError("the ledger runs on SQLite or PostgreSQL")
        if checkpoint_every < 1:
            raise LedgerError("checkpoint_every must be at least 1")
        if not 1 <= len(actor) <= 64:
            raise LedgerError("actor must be 1 to 64 characters")
        self._engine = engine
        self._signer = signer
        self._clock = clock
        self._actor = actor
        self._every = checkpoint_every

    @property
    def signer(self) -> CheckpointSigner | None:
        """Who signs checkpoints, if anyone."""
        return self._signer

    def append(self, record: LedgerRecord) -> int:
        """Record one event; returns its seq."""
        return self.append_many([record])[0]

    def append_many(self, records: Sequence[LedgerRecord]) -> list[int]:
        """Record events in order, in one transaction; returns their seqs (contiguous)."""
        if not records:
            return []
        # Serialise outside the lock: the lock is held only for head, hash and insert.
        prepared = records_columns(records)
        try:
            with self._write_transaction() as connection:
                return self._append_locked(connection, prepared)
        except SQLAlchemyError as exc:
            raise LedgerUnavailable("the ledger could not record the event") from exc

    def checkpoint(self) -> LedgerCheckpoint | None:
        """Sign the current head now (idempotent: an existing checkpoint at the head is
        returned). None when the ledger is empty; `CheckpointUnavailable` without a signer."""
        if self._signer is None:
            raise CheckpointUnavailable("no checkpoint signer is configured")
        try:
            with self._write_transaction() as connection:
                head_seq, head_hash = _head(connection)
                if head_seq == 0:
                    return None
                existing = connection.execute(
                    checkpoint_select().where(CHECKPOINT.c.seq == head_seq)
                ).first()
                if existing is not None:
                    return to_checkpoint(existing)
                return self._write_checkpoint(connection, head_seq, head_hash)
        except SQLAlchemyError as exc:
            raise LedgerUnavailable("the ledger could not write a checkpoint") from exc

    def checkpoints(self) -> list[LedgerCheckpoint]:
        """Every checkpoint, by seq (few: one per `checkpoint_every` entries)."""
        with self._engine.connect() as connection:
            return [to_checkpoint(r) for r in connection.execute(checkpoint_select())]

    def verify(
        self, directory: KeyDirectory, *, hubs: Collection[str] | None = None
    ) -> VerifyReport:
        """Recompute the whole chain and check every checkpoint (see `broker.ledger.verify`).

        Checkpoints must be signed by a hub in `hubs`; by default the signer's hub when one is
        configured, otherwise any agency of kind hub.
        """
        if hubs is None and self._signer is not None:
            hubs = (self._signer.hub_id,)
        return verify_ledger(self._engine, directory, hubs)

    def export(self, filters: LedgerFilter, fmt: ExportFormat, out: TextIO) -> int:
        """Write matching entries to `out` as CSV or JSON; returns how many."""
        return export_entries(self._engine, filters, fmt, out)

    def history(self, message_id: str) -> list[LedgerEntry]:
        """Every entry about the message (as `message_id` or `related_message_id`), by seq."""
        return self.histories([message_id]).get(message_id, [])

    def histories(self, message_ids: Collection[str]) -> dict[str, list[LedgerEntry]]:
        """`history` of several messages, in one query per `HISTORY_CHUNK` ids (the router
        asks once per batch; a batch of batched receipts can name thousands of ids, beyond
        SQLite's bound-parameter limit), each list by seq."""
        ids = set(message_ids)
        ordered = sorted(ids)
        entries: dict[int, LedgerEntry] = {}
        with self._engine.connect() as connection:
            for start in range(0, len(ordered), HISTORY_CHUNK):
                chunk = ordered[start : start + HISTORY_CHUNK]
                for row in connection.execute(_ABOUT, {"ids": chunk}):
                    entry = to_entry(row)
                    entries[entry.seq] = entry  # an entry can match in two chunks
        found: dict[str, list[LedgerEntry]] = {}
        for seq in sorted(entries):
            entry = entries[seq]
            for key in ids & {entry.message_id, entry.related_message_id or ""}:
                found.setdefault(key, []).append(entry)
        return found

    def _append_locked(self, connection: Connection, prepared: list[dict[str, Any]]) -> list[int]:
        head_seq, head_hash = _head(connection)
        # Read the clock under the lock, so recorded_at follows seq within one host.
        now = self._clock()
        rows = []
        for columns in prepared:
            head_seq += 1
            row = {
                **columns,
                "seq": head_seq,
                "recorded_at": now,
                "actor": self._actor,
                "prev_hash": head_hash,
            }
            row["entry_hash"] = head_hash = entry_hash(head_hash, row)
            rows.append(row)
        connection.execute(_INSERT, rows)
        if self._signer is not None:
            for row in rows:
                if row["seq"] % self._every == 0:
                    self._write_checkpoint(connection, row["seq"], row["entry_hash"])
        return [row["seq"] for row in rows]

    def _write_checkpoint(
        self, connection: Connection, seq: int, head_hash: str
    ) -> LedgerCheckpoint:
        assert self._signer is not None
        checkpoint = self._signer.sign(seq, head_hash, self._clock())
        connection.execute(
            insert(CHECKPOINT).values(
                seq=checkpoint.seq,
                entry_hash=checkpoint.entry_hash,
                signed_at=checkpoint.signed_at,
                kid=checkpoint.kid,
                signature=checkpoint.signature,
            )
        )
        return checkpoint

    @contextmanager
    def _write_transaction(self) -> Iterator[Connection]:
        """A transaction holding the ledger's append lock."""
        if self._engine.dialect.name == "postgresql":
            # READ COMMITTED whatever the engine's default: under REPEATABLE READ the snapshot
            # would be taken by the lock statement itself, before the lock is granted, and the
            # head read after it could be stale.
            with self._engine.connect() as connection:
                connection.execution_options(isolation_level="READ COMMITTED")
                with connection.begin():
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
                    )
                    yield connection
            return
        with self._engine.connect() as connection:
            # Left to itself pysqlite begins a transaction only at the INSERT, after the head
            # was read, so two appenders can chain onto the same head (and a plain deferred
            # BEGIN fails with SQLITE_BUSY at once in WAL mode, without waiting, when its read
            # snapshot is stale). BEGIN IMMEDIATE takes the write lock before the head is
            # read, waiting up to the busy timeout for it.
            connection.execution_options(isolation_level="AUTOCOMMIT")
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield connection
                connection.exec_driver_sql("COMMIT")
            except BaseException:
                with suppress(DBAPIError):
                    connection.exec_driver_sql("ROLLBACK")
                raise


def _head(connection: Connection) -> tuple[int, str]:
    """The last entry's seq and hash; (0, GENESIS_HASH) when the ledger is empty."""
    row = connection.execute(_HEAD).first()
    return (0, GENESIS_HASH) if row is None else (int(row[0]), str(row[1]))
