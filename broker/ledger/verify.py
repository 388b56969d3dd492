"""Verification: recompute the chain from entry 1 and hold it against the signed checkpoints.

Entries are streamed in seq order a page at a time (memory stays flat however long the
ledger). Checkpoints are few (one per `checkpoint_every` entries) and are loaded at once.
Verification stops at the first bad entry: everything after it is unverifiable anyway.

What it cannot see, by construction: entries appended by someone with write access (the
chain guards history, not the right to append); and changes to entries after the last
checkpoint when the checkpoints after them were removed too. Checkpoints copied out of the
database (see `cme-broker ledger checkpoint`) close that gap.
"""

from collections.abc import Collection
from dataclasses import dataclass
from typing import Final

from sqlalchemy import Engine

from broker.directory.model import KeyDirectory
from broker.ledger.chain import GENESIS_HASH, HASHED_FIELDS, entry_hash_of_values, time_text
from broker.ledger.checkpoint import CheckpointInvalid, verify_checkpoint
from broker.ledger.model import Problem, VerifyReport
from broker.ledger.rows import checkpoint_select, entry_select, paged, to_checkpoint

_RECORDED_AT: Final = HASHED_FIELDS.index("recorded_at")
_N_HASHED: Final = len(HASHED_FIELDS)


@dataclass(frozen=True)
class _Finding:
    seq: int
    problem: Problem
    message: str


@dataclass(frozen=True)
class _Checkpoints:
    hashes: dict[int, str]
    """seq -> entry hash, from checkpoints whose signature verified."""
    checked: int
    first_invalid: _Finding | None


def verify_ledger(
    engine: Engine, directory: KeyDirectory, hubs: Collection[str] | None, batch: int = 5000
) -> VerifyReport:
    """Check every entry and checkpoint; report the first bad sequence number."""
    checkpoints = _load_checkpoints(engine, directory, hubs)
    stop_after = checkpoints.first_invalid.seq if checkpoints.first_invalid else None
    finding, checked = _walk(engine, checkpoints.hashes, stop_after, batch)
    if finding is None and checkpoints.hashes:
        last = max(checkpoints.hashes)
        if last > checked:
            finding = _Finding(
                checked + 1,
                Problem.TRUNCATED,
                f"the ledger ends at entry {checked} but the hub signed a checkpoint at entry "
                f"{last}: entries from {checked + 1} were removed",
            )
    findings = [f for f in (finding, checkpoints.first_invalid) if f is not None]
    if not findings:
        return VerifyReport(
            True,
            checked,
            checkpoints.checked,
            None,
            None,
            f"ledger verified: {checked} entries, {checkpoints.checked} checkpoints",
        )
    first = min(findings, key=lambda f: f.seq)  # min is stable: an entry finding wins a tie
    return VerifyReport(
        False, checked, checkpoints.checked, first.seq, first.problem, first.message
    )


def _load_checkpoints(
    engine: Engine, directory: KeyDirectory, hubs: Collection[str] | None
) -> _Checkpoints:
    hashes: dict[int, str] = {}
    first_invalid: _Finding | None = None
    checked = 0
    with engine.connect() as connection:
        rows = connection.execute(checkpoint_select()).all()
    for row in rows:
        checkpoint = to_checkpoint(row)
        checked += 1
        try:
            verify_checkpoint(checkpoint, directory, hubs)
        except CheckpointInvalid as exc:
            if first_invalid is None:
                message = f"the checkpoint at entry {checkpoint.seq} is not valid: {exc}"
                first_invalid = _Finding(
                    checkpoint.seq, Problem.CHECKPOINT_SIGNATURE_INVALID, message
                )
            continue
        hashes[checkpoint.seq] = checkpoint.entry_hash
    return _Checkpoints(hashes, checked, first_invalid)


def _walk(
    engine: Engine, signed: dict[int, str], stop_after: int | None, batch: int
) -> tuple[_Finding | None, int]:
    """Follow the chain; returns the first bad entry (if any) and how many entries were good."""
    expected, prev, last_signed = 1, GENESIS_HASH, 0
    for row in paged(engine, entry_select(), batch):
        seq = row[0]
        if stop_after is not None and seq > stop_after:
            break  # a bad checkpoint below this point is already the answer
        if seq != expected:
            first = min(seq, expected)
            return _Finding(
                first, Problem.SEQ_GAP, f"entry {expected} was expected but entry {seq} follows"
            ), expected - 1
        if row[_N_HASHED] != prev:
            return _Finding(
                seq,
                Problem.CHAIN_BROKEN,
                f"entry {seq} does not link to entry {seq - 1} "
                "(one of them was replaced, or entries were inserted or removed)",
            ), expected - 1
        hashed = dict(zip(HASHED_FIELDS, row[:_N_HASHED], strict=True))
        hashed["recorded_at"] = time_text(row[_RECORDED_AT])
        stored = row[_N_HASHED + 1]
        if entry_hash_of_values(prev, hashed) != stored:
            return _Finding(
                seq, Problem.HASH_MISMATCH, f"entry {seq} does not match its hash (it was changed)"
            ), expected - 1
        signed_hash = signed.get(seq)
        if signed_hash is not None:
            if signed_hash != stored:
                return _Finding(
                    seq,
                    Problem.CHECKPOINT_MISMATCH,
                    f"entry {seq} differs from the hub's signed checkpoint: entries after "
                    f"{last_signed} up to {seq} were rewritten",
                ), expected - 1
            last_signed = seq
        prev, expected = stored, expected + 1
    return None, expected - 1
