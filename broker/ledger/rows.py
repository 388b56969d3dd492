"""Between rows and values: the tables as SQLAlchemy Core objects, record to columns, row to
view, and paged reads that never hold a whole large ledger in memory."""

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import Connection, Engine, Row, Select, Table, select
from sqlmodel import SQLModel

from broker.directory.tables import as_utc
from broker.ledger.chain import HASHED_FIELDS, canonical_json
from broker.ledger.model import LedgerCheckpoint, LedgerEntry, LedgerRecord
from broker.ledger.tables import LedgerCheckpointRow, LedgerEntryRow

# Core, not the ORM: verifying 100,000 entries must not build 100,000 ORM objects.
ENTRY: Final[Table] = SQLModel.metadata.tables[str(LedgerEntryRow.__tablename__)]
CHECKPOINT: Final[Table] = SQLModel.metadata.tables[str(LedgerCheckpointRow.__tablename__)]
ENTRY_COLUMNS: Final = (*HASHED_FIELDS, "prev_hash", "entry_hash")
"""Column order of `entry_select()` rows (positions are used on the verifier's hot path)."""
CHECKPOINT_COLUMNS: Final = ("seq", "entry_hash", "signed_at", "kid", "signature")


def entry_select() -> Select[Any]:
    """SELECT of every entry column, in `ENTRY_COLUMNS` order, by seq."""
    return select(*(ENTRY.c[name] for name in ENTRY_COLUMNS)).order_by(ENTRY.c.seq)


def records_columns(records: Sequence[LedgerRecord]) -> list[dict[str, Any]]:
    """Each record's own columns in stored (and hashed) form; the ledger adds seq,
    recorded_at, actor and the hashes. A batched receipt's entries share one justification
    object: it is serialised once."""
    serialised: dict[int, str | None] = {}
    columns = []
    for record in records:
        justification = record.justification
        key = id(justification)
        if key not in serialised:
            serialised[key] = (
                None
                if justification is None
                else canonical_json(justification.model_dump(mode="json"))
            )
        columns.append(_record_columns(record, serialised[key]))
    return columns


def _record_columns(record: LedgerRecord, justification: str | None) -> dict[str, Any]:
    return {
        "event": record.event.value,
        "message_id": record.message_id,
        "sender": record.sender,
        "recipient": record.recipient,
        "message_type": record.message_type,
        "schema_version": record.schema_version,
        "subject_refs": canonical_json(list(record.subject_refs)),
        "justification": justification,
        "jwe_sha256": record.jwe_sha256,
        "reason_code": record.reason_code,
        "rule": record.rule,
        "related_message_id": record.related_message_id,
    }


def to_entry(row: Sequence[Any]) -> LedgerEntry:
    """A row of `entry_select()` as a view, with its JSON columns parsed."""
    values = dict(zip(ENTRY_COLUMNS, row, strict=True))
    values["recorded_at"] = _utc(values["recorded_at"])
    values["subject_refs"] = tuple(json.loads(values["subject_refs"]))
    if values["justification"] is not None:
        values["justification"] = json.loads(values["justification"])
    return LedgerEntry(**values)


def to_checkpoint(row: Sequence[Any]) -> LedgerCheckpoint:
    """A row of the checkpoint table (in `CHECKPOINT_COLUMNS` order) as a view."""
    seq, entry_hash, signed_at, kid, signature = row
    return LedgerCheckpoint(seq, entry_hash, _utc(signed_at), kid, signature)


def _utc(value: datetime) -> datetime:
    # SQLite gives naive UTC back, PostgreSQL the session's time zone: show UTC either way.
    return as_utc(value).astimezone(UTC)


def checkpoint_select() -> Select[Any]:
    """SELECT of every checkpoint column, in `CHECKPOINT_COLUMNS` order, by seq."""
    return select(*(CHECKPOINT.c[name] for name in CHECKPOINT_COLUMNS)).order_by(CHECKPOINT.c.seq)


def paged(engine: Engine, statement: Select[Any], batch: int) -> Iterator[Row[Any]]:
    """Rows of `statement` (which must be ordered by entry seq) a page at a time.

    Keyset paging (`seq > last seen`) instead of a server-side cursor: it behaves the same on
    SQLite and PostgreSQL, holds no transaction open between pages, and each page is an index
    range scan however deep into the ledger it is.
    """
    with engine.connect() as connection:
        yield from _pages(connection, statement, batch)


def _pages(connection: Connection, statement: Select[Any], batch: int) -> Iterator[Row[Any]]:
    page = statement.limit(batch)
    while True:
        rows = connection.execute(page).all()
        connection.rollback()  # end the read transaction: do not pin a snapshot across pages
        yield from rows
        if len(rows) < batch:
            return
        page = statement.where(ENTRY.c.seq > rows[-1].seq).limit(batch)
