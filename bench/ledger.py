"""Justification ledger: how fast it verifies, and how fast it appends, on SQLite.

    .venv/bin/python bench/ledger.py [--entries 100000] [--appends 2000] [--json]

Builds a ledger of N entries in a temporary SQLite database through `SqlLedger.append_many`
(the same chaining, hashing and checkpoint signing as every append, in batches so the build
does not take minutes), each entry carrying a full synthetic justification and signed
checkpoints every 1,000 entries. Then times `SqlLedger.verify` over all N entries (chain,
hashes, checkpoint signatures) and, separately, single `append` calls, each its own
transaction, as the router makes them. Target (issue 3): 100,000 entries verify in under 10 s.
"""

import argparse
import json
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from broker.app import Container
from broker.ledger import LedgerEvent, LedgerRecord, SqlLedger, ledger_for
from broker.settings import Settings
from schemas.examples.justifications import example_justification

TARGET_ENTRIES = 100_000
TARGET_SECONDS = 10.0
BATCH = 1000
FLOWS = (
    ("school:3304000", "la:330", "school.deletion_return"),
    ("la:330", "health:M85001", "cme.locate_enquiry"),
    ("health:M85001", "la:330", "cme.locate_response"),
    ("la:330", "la:331", "cme.cross_border_notification"),
)


def synthetic_records(n: int) -> list[LedgerRecord]:
    """N routed events over a few flows, with full justifications and random pseudonyms."""
    reasons = [
        (sender, recipient, kind, example_justification(kind, sender=sender, recipient=recipient))
        for sender, recipient, kind in FLOWS
    ]
    records = []
    for i in range(n):
        sender, recipient, kind, justification = reasons[i % len(reasons)]
        records.append(
            LedgerRecord(
                event=LedgerEvent.ROUTED,
                message_id=str(uuid.uuid4()),
                sender=sender,
                recipient=recipient,
                message_type=kind,
                schema_version=1,
                subject_refs=(uuid.uuid4().hex[:22],),
                justification=justification,
                jwe_sha256=uuid.uuid4().hex + uuid.uuid4().hex[:11],
                rule=f"{justification.agreement.id}@1/{kind}",
            )
        )
    return records


def build(ledger: SqlLedger, n: int) -> float:
    """Append n entries in batches; returns the seconds taken."""
    start = time.perf_counter()
    for offset in range(0, n, BATCH):
        ledger.append_many(synthetic_records(min(BATCH, n - offset)))
    return time.perf_counter() - start


def run(entries: int, appends: int) -> dict[str, Any]:
    """Build, verify and append in a temporary data directory; returns the figures."""
    with tempfile.TemporaryDirectory(prefix="cme-bench-ledger-") as tmp:
        data_dir = Path(tmp)
        url = f"sqlite:///{data_dir / 'ledger.db'}"
        container = Container(Settings(data_dir=data_dir, database_url=url))
        try:
            return measure(ledger_for(container, actor="bench"), container, entries, appends)
        finally:
            container.engine.dispose()


def measure(ledger: SqlLedger, container: Container, entries: int, appends: int) -> dict[str, Any]:
    """The figures for one ledger (empty on entry; checkpoints every 1,000 entries)."""
    build_s = build(ledger, entries)
    directory = container.snapshot()

    start = time.perf_counter()
    report = ledger.verify(directory)
    verify_s = time.perf_counter() - start
    if not report.ok or report.entries_checked != entries:
        raise SystemExit(f"verification failed: {report.message}")

    singles = synthetic_records(appends)
    start = time.perf_counter()
    for record in singles:
        ledger.append(record)
    append_s = time.perf_counter() - start

    projected = verify_s * TARGET_ENTRIES / entries if entries else float("inf")
    return {
        "database": "sqlite",
        "entries": entries,
        "checkpoints": report.checkpoints_checked,
        "build_seconds": round(build_s, 2),
        "build_entries_per_s": round(entries / build_s) if build_s else None,
        "verify_seconds": round(verify_s, 3),
        "verify_entries_per_s": round(entries / verify_s) if verify_s else None,
        "appends": appends,
        "append_per_s": round(appends / append_s) if append_s else None,
        "verify_100k_seconds": round(projected, 2),
        "target_seconds": TARGET_SECONDS,
        "target_met": projected < TARGET_SECONDS,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=TARGET_ENTRIES)
    parser.add_argument("--appends", type=int, default=2000, help="single appends to time")
    parser.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args()
    figures = run(args.entries, args.appends)
    if args.json:
        print(json.dumps(figures))
        return
    print(f"ledger on SQLite: {figures['entries']} entries, {figures['checkpoints']} checkpoints")
    print(f"build (append_many, batches of {BATCH}): {figures['build_seconds']} s")
    scaled = f" (100k: ~{figures['verify_100k_seconds']} s)"
    print(
        f"verify: {figures['verify_seconds']} s, {figures['verify_entries_per_s']} entries/s"
        + ("" if args.entries == TARGET_ENTRIES else scaled)
    )
    print(f"append (one transaction each): {figures['append_per_s']} appends/s")
    met = "met" if figures["target_met"] else "NOT met"
    print(f"target verify 100k < {TARGET_SECONDS:g} s: {met}")


if __name__ == "__main__":
    main()
