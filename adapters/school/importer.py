"""Importing one export file: every good row submitted, every bad row reported.

Each row is submitted in a transaction of its own, under its idempotency key: importing the
same file twice sends nothing twice, and an import that stops half-way (a crash, a database
outage) is finished by importing the file again. A bad row is reported with its line number
and the reason, and never stops the others. The file itself is remembered by the digest of its
content, so `watch` does not read it again.
"""

import csv
import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import structlog
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from adapters.school import store
from adapters.school.adapter import SchoolAdapter
from adapters.school.csv_format import read_csv
from adapters.school.ctf import read_ctf
from adapters.school.errors import SchoolError, UnreadableFile
from adapters.school.rows import ParsedRow, RowProblem, problem_from_validation
from adapters.school.rules import EventResult, Outcome
from broker.clock import Clock
from broker.errors import BrokerError
from schemas.domain import DeletionGround
from schemas.errors import SchemaError

Progress = Callable[[int, int], None]
"""Called after each row with (rows done, rows in the file)."""
FileFormat = Literal["csv", "ctf"]


@dataclass
class ImportReport:
    """What an import did: each good row's result and each bad row's problem, by line."""

    sha256: str
    results: list[tuple[int, EventResult]] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    seen_before: bool = False
    """The file's content was imported before (rows were still checked one by one)."""

    @property
    def rows(self) -> int:
        """Rows read (good and bad)."""
        return len(self.results) + len(self.problems)

    def counts(self) -> Counter[str]:
        """Rows by outcome, bad rows as `refused`."""
        counted: Counter[str] = Counter(result.outcome.value for _, result in self.results)
        counted["refused"] += len(self.problems)
        return counted

    @property
    def sent(self) -> int:
        """Rows whose return (or destination check) was staged by this import."""
        sending = (Outcome.SENT, Outcome.AWAITING_DESTINATION)
        return sum(1 for _, result in self.results if result.outcome in sending)


def file_format(path: Path, data: bytes) -> FileFormat:
    """CTF for `.xml` (or content that starts like XML), CSV otherwise."""
    if path.suffix.lower() == ".xml" or data.lstrip()[:1] == b"<":
        return "ctf"
    return "csv"


class Importer:
    """Imports export files into one school's adapter."""

    def __init__(
        self, adapter: SchoolAdapter, engine: Engine, clock: Clock, max_bytes: int
    ) -> None:
        self._adapter = adapter
        self._engine = engine
        self._clock = clock
        self._max_bytes = max_bytes

    def read(self, path: Path) -> bytes:
        """The file's bytes, refused when larger than the limit."""
        if path.stat().st_size > self._max_bytes:
            raise UnreadableFile("file_too_large", "the file is over the configured limit")
        return path.read_bytes()

    def import_file(
        self,
        path: Path,
        *,
        ground: DeletionGround | None = None,
        progress: Progress | None = None,
    ) -> ImportReport:
        """Import a CSV export or a CTF. Raises `SchoolError` only when the whole file is
        unusable (unreadable, no header, another school's CTF)."""
        data = self.read(path)
        return self.import_bytes(data, file_format(path, data), ground=ground, progress=progress)

    def import_bytes(
        self,
        data: bytes,
        fmt: FileFormat,
        *,
        ground: DeletionGround | None = None,
        progress: Progress | None = None,
    ) -> ImportReport:
        """Import a file's content (see `import_file`)."""
        digest = hashlib.sha256(data).hexdigest()
        rows = list(self._parse(data, fmt, ground))
        report = ImportReport(digest)
        for done, row in enumerate(rows, start=1):
            if isinstance(row, RowProblem):
                report.problems.append(row)
            else:
                self._submit(row, report)
            if progress is not None:
                progress(done, len(rows))
        report.seen_before = not self._remember(digest, len(data), report)
        structlog.get_logger(__name__).info(
            "school.imported", rows=report.rows, refused=len(report.problems), sent=report.sent
        )
        return report

    def _parse(
        self, data: bytes, fmt: FileFormat, ground: DeletionGround | None
    ) -> list[ParsedRow | RowProblem]:
        if fmt == "ctf":
            return list(read_ctf(data, self._adapter.policy.laestab, ground))
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise UnreadableFile("not_utf8", "the export must be UTF-8 text") from None
        try:
            return list(read_csv(text))
        except (csv.Error, ValueError):
            # The reader turns bad records and cells into row problems; anything left is the
            # whole file's (and its message may quote the data: never passed on).
            raise UnreadableFile("malformed_csv", "the file is not readable CSV") from None

    def _submit(self, row: ParsedRow, report: ImportReport) -> None:
        try:
            result = self._adapter.submit(row.event, event_id=row.event_id)
        except ValidationError as exc:  # the return itself refused what the event allowed
            report.problems.append(problem_from_validation(row.line, row.event.kind, exc))
        except (SchoolError, BrokerError, SchemaError) as exc:
            report.problems.append(RowProblem(row.line, exc.reason, str(exc)))
        else:
            report.results.append((row.line, result))

    def _remember(self, digest: str, size: int, report: ImportReport) -> bool:
        """Record the file; False when it was recorded before."""
        school = self._adapter.school_id
        try:
            with Session(self._engine) as session:
                if store.file_seen(session, school, digest):
                    return False
                counts = (report.rows, len(report.problems))
                store.record_file(session, school, digest, size, counts, self._clock())
                session.commit()
        except IntegrityError:
            return False
        return True

    def seen(self, digest: str) -> bool:
        """True when a file with this content digest was imported for the school."""
        with Session(self._engine) as session:
            return store.file_seen(session, self._adapter.school_id, digest)
