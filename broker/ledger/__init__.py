"""The justification ledger: an append-only, hash-chained record of every routed, refused,
receipted, dead-lettered and delivered message (metadata only), with hub-signed checkpoints.

See `chain` for the hash construction, `checkpoint` for what the hub signs and `verify` for
what verification can and cannot detect. Tables are append-only by trigger (migration 0002);
a database superuser can still disable the triggers, which is why the chain and the signed
checkpoints exist: tampering then shows in `SqlLedger.verify`.
"""

from broker.ledger.chain import GENESIS_HASH
from broker.ledger.checkpoint import CHECKPOINT_TYP, CheckpointInvalid, CheckpointSigner
from broker.ledger.errors import CheckpointUnavailable, LedgerError, LedgerUnavailable
from broker.ledger.export import ExportFormat
from broker.ledger.factory import default_actor, ledger_for
from broker.ledger.model import (
    LedgerCheckpoint,
    LedgerEntry,
    LedgerEvent,
    LedgerFilter,
    LedgerRecord,
    Problem,
    VerifyReport,
)
from broker.ledger.store import ADVISORY_LOCK_KEY, SqlLedger

__all__ = [
    "ADVISORY_LOCK_KEY",
    "CHECKPOINT_TYP",
    "GENESIS_HASH",
    "CheckpointInvalid",
    "CheckpointSigner",
    "CheckpointUnavailable",
    "ExportFormat",
    "LedgerCheckpoint",
    "LedgerEntry",
    "LedgerError",
    "LedgerEvent",
    "LedgerFilter",
    "LedgerRecord",
    "LedgerUnavailable",
    "Problem",
    "SqlLedger",
    "VerifyReport",
    "default_actor",
    "ledger_for",
]
