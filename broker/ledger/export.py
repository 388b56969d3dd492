"""Export for the DPO and for subject access requests: filtered entries as CSV or JSON.

Output is streamed: a page of entries is read, written and dropped before the next.
"""

import csv
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

from sqlalchemy import ColumnElement, Engine, or_

from broker.directory.tables import as_utc
from broker.ledger.model import LedgerEntry, LedgerFilter
from broker.ledger.rows import ENTRY, ENTRY_COLUMNS, entry_select, paged, to_entry

ExportFormat = Literal["csv", "json"]


def export_entries(
    engine: Engine, filters: LedgerFilter, fmt: ExportFormat, out: TextIO, batch: int = 2000
) -> int:
    """Write the matching entries in seq order; returns how many were written.

    CSV has one column per ledger column (subject_refs and justification as JSON text); JSON
    is an array of objects with subject_refs as a list and the justification as an object.
    """
    entries = matching(engine, filters, batch)
    if fmt == "csv":
        return _write_csv(entries, out)
    if fmt == "json":
        return _write_json(entries, out)
    raise ValueError("format must be csv or json")


def matching(engine: Engine, filters: LedgerFilter, batch: int = 2000) -> Iterator[LedgerEntry]:
    """Entries matching every filter given, in seq order."""
    statement = entry_select()
    for condition in _conditions(filters):
        statement = statement.where(condition)
    for row in paged(engine, statement, batch):
        entry = to_entry(row)
        # The SQL LIKE on the JSON text narrows the scan; this makes the match exact.
        if filters.subject is None or filters.subject in entry.subject_refs:
            yield entry


def _conditions(filters: LedgerFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.agency is not None:
        conditions.append(
            or_(ENTRY.c.sender == filters.agency, ENTRY.c.recipient == filters.agency)
        )
    if filters.since is not None:
        # SQLite stores UTC wall time without an offset: compare in UTC on every database.
        conditions.append(ENTRY.c.recorded_at >= _utc(filters.since))
    if filters.until is not None:
        conditions.append(ENTRY.c.recorded_at < _utc(filters.until))
    if filters.message_type is not None:
        conditions.append(ENTRY.c.message_type == filters.message_type)
    if filters.subject is not None:
        pattern = '%"' + _escape_like(filters.subject) + '"%'
        conditions.append(ENTRY.c.subject_refs.like(pattern, escape="\\"))
    return conditions


def _utc(value: datetime) -> datetime:
    return as_utc(value).astimezone(UTC)


def _escape_like(text: str) -> str:
    # Pseudonyms are base64url, and "_" is a LIKE wildcard.
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _flat(entry: LedgerEntry) -> dict[str, Any]:
    values = {name: getattr(entry, name) for name in ENTRY_COLUMNS}
    values["recorded_at"] = entry.recorded_at.isoformat()
    return values


def _write_csv(entries: Iterator[LedgerEntry], out: TextIO) -> int:
    writer = csv.DictWriter(out, fieldnames=ENTRY_COLUMNS, lineterminator="\n")
    writer.writeheader()
    count = 0
    for entry in entries:
        row = _flat(entry)
        row["subject_refs"] = json.dumps(list(entry.subject_refs))
        if entry.justification is not None:
            row["justification"] = json.dumps(entry.justification, sort_keys=True)
        writer.writerow(row)
        count += 1
    return count


def _write_json(entries: Iterator[LedgerEntry], out: TextIO) -> int:
    count = 0
    out.write("[")
    for entry in entries:
        row = _flat(entry)
        row["subject_refs"] = list(entry.subject_refs)
        out.write(",\n" if count else "\n")
        out.write(json.dumps(row, sort_keys=True, ensure_ascii=False))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count
