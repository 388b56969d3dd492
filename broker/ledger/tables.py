"""Database tables of the justification ledger. Separate from the record and view models.

Metadata only: ids, parties, types, keyed subject pseudonyms, the justification and digests,
never a payload or an identity in clear. Rows are written once: migration 0002 installs
triggers that refuse UPDATE and DELETE, and the hash chain plus signed checkpoints make any
change that bypasses them (a database superuser can) detectable by `SqlLedger.verify`.
"""

from datetime import datetime

from sqlalchemy import BigInteger, Text
from sqlmodel import Field, SQLModel

from broker.directory.tables import UtcDateTime

# seq is assigned by the ledger, never by the database: it must be contiguous from 1, which a
# sequence or autoincrement does not promise (rolled-back transactions leave holes).
_SEQ_KWARGS = {"autoincrement": False}


class LedgerEntryRow(SQLModel, table=True):
    """One event in the life of a message, chained to the entry before it."""

    __tablename__ = "ledger_entry"

    seq: int = Field(primary_key=True, sa_type=BigInteger, sa_column_kwargs=_SEQ_KWARGS)
    recorded_at: datetime = Field(sa_type=UtcDateTime, index=True)
    event: str = Field(max_length=16)
    message_id: str = Field(max_length=64, index=True)
    sender: str = Field(max_length=64, index=True)
    recipient: str = Field(max_length=64, index=True)
    message_type: str = Field(max_length=64)
    schema_version: int
    subject_refs: str = Field(sa_type=Text)
    """JSON array of keyed pseudonyms (22-character base64url), as hashed."""
    justification: str | None = Field(default=None, sa_type=Text)
    """Canonical JSON of the full justification, as hashed; null when the event has none."""
    jwe_sha256: str = Field(max_length=64)
    reason_code: str | None = Field(default=None, max_length=64)
    rule: str | None = Field(default=None, max_length=200)
    related_message_id: str | None = Field(default=None, max_length=64, index=True)
    actor: str = Field(max_length=64)
    prev_hash: str = Field(max_length=43)
    entry_hash: str = Field(max_length=43)


class LedgerCheckpointRow(SQLModel, table=True):
    """The hub's signature over the chain head at `seq`: a compact JWS over
    {seq, entry_hash, signed_at, hub}. The signed payload is authoritative, the other columns
    are there to be read and are checked against it."""

    __tablename__ = "ledger_checkpoint"

    seq: int = Field(primary_key=True, sa_type=BigInteger, sa_column_kwargs=_SEQ_KWARGS)
    entry_hash: str = Field(max_length=43)
    signed_at: datetime = Field(sa_type=UtcDateTime)
    kid: str = Field(max_length=64)
    signature: str = Field(sa_type=Text)
