"""Reading an agency's local records table (a CSV file or an SQL table) and matching the
enquiry's child against it.

Shared by the responders whose source is a local table. A table that does not parse is refused
whole, naming the line (or row) and column, never a value: skipping a bad row could turn two
matches into one and so a guess into an automatic answer.
"""

import csv
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import String, column, select, table
from sqlalchemy.exc import SQLAlchemyError

from broker.db import make_engine
from broker.responder.errors import SourceDataInvalid
from schemas.child import Address
from schemas.messages.cme import LocateSubject

_TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0", ""})


@dataclass(frozen=True)
class CsvRow:
    """One data row of a table and its line number in the file (for error messages)."""

    line: int
    values: Mapping[str, str]

    def text(self, column: str) -> str | None:
        """The stripped value, or None when empty."""
        value = (self.values.get(column) or "").strip()
        return value or None

    def required(self, column: str) -> str:
        """A value that must be present."""
        value = self.text(column)
        if value is None:
            raise self.error(column, "is empty")
        return value

    def day(self, column: str, *, required: bool = False) -> date | None:
        """An ISO date (YYYY-MM-DD)."""
        value = self.required(column) if required else self.text(column)
        if value is None:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise self.error(column, "is not a YYYY-MM-DD date") from None

    def flag(self, column: str) -> bool:
        """A yes/no value (true/false, yes/no, y/n, 1/0; empty is no)."""
        value = (self.text(column) or "").lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise self.error(column, "is not a yes/no value")

    def address(self, prefix: str) -> Address | None:
        """The address in `<prefix>line_1`, `<prefix>line_2`, `<prefix>town`, `<prefix>postcode`
        (None when all are empty)."""
        lines = tuple(v for v in (self.text(f"{prefix}line_1"), self.text(f"{prefix}line_2")) if v)
        town, postcode = self.text(f"{prefix}town"), self.text(f"{prefix}postcode")
        if not lines and town is None and postcode is None:
            return None
        try:
            return Address(lines=lines, town=town or "", postcode=postcode)
        except ValidationError as exc:
            fields = sorted({f"{prefix}{e['loc'][0]}" for e in exc.errors() if e["loc"]})
            raise self.error(", ".join(fields) or f"{prefix}address", "is not valid") from None

    def error(self, column: str, problem: str) -> SourceDataInvalid:
        """An error naming the line (or row) and column, never the value."""
        return SourceDataInvalid(f"line {self.line}: {column} {problem}")


def read_table(path: Path, columns: Sequence[str]) -> list[CsvRow]:
    """The rows of a UTF-8 CSV file with a header naming at least `columns`."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in columns if c not in (reader.fieldnames or ())]
            if missing:
                raise SourceDataInvalid(
                    f"the header lacks {', '.join(missing)}", reason="source_header_invalid"
                )
            # The header is line 1; a quoted value may span lines, so ask the reader.
            return [CsvRow(reader.line_num, row) for row in reader]
    except OSError:
        raise SourceDataInvalid(
            "the records file cannot be read", reason="source_unreadable"
        ) from None
    except (UnicodeDecodeError, csv.Error):
        raise SourceDataInvalid("the records file is not UTF-8 CSV") from None


def read_sql_table(url: str, name: str, columns: Sequence[str]) -> list[CsvRow]:
    """The rows of a table in another database (the agency's own records system or an export
    of it), read once; values are read as text, as a CSV's would be. Errors say "row N"."""
    if not _TABLE_NAME.match(name):
        raise SourceDataInvalid("the table name must be a plain SQL identifier")
    engine = make_engine(url)
    names = [column(c, String()) for c in columns]
    query = select(*names).select_from(table(name))
    try:
        with engine.connect() as connection:
            result = connection.execute(query).mappings().all()
    except SQLAlchemyError:
        raise SourceDataInvalid(
            "the records table cannot be read (missing table or column?)",
            reason="source_unreadable",
        ) from None
    finally:
        engine.dispose()
    return [
        CsvRow(number, {c: "" if row[c] is None else _text(row[c]) for c in columns})
        for number, row in enumerate(result, start=1)
    ]


def _text(value: object) -> str:
    """A database value as the CSV reader would see it (booleans as yes/no)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value.isoformat() if isinstance(value, date) else str(value)


def normal_name(text: str) -> str:
    """A name compared the way people write it: accents, case, spaces, hyphens and apostrophes
    ignored ("O'Brien-Smith" and "obrien smith" agree)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if ch.isalnum()).casefold()


def first_forename(forenames: str) -> str:
    """The first forename, normalised (records often hold only the first)."""
    parts = forenames.split()
    return normal_name(parts[0]) if parts else ""


@dataclass(frozen=True)
class SubjectKey:
    """The enquiry's child as a matching key: surnames (current and former), the first
    forename, the date of birth and the NHS number when given."""

    surnames: frozenset[str]
    forename: str
    date_of_birth: date
    nhs_number: str | None = None

    @classmethod
    def of(cls, subject: LocateSubject) -> "SubjectKey":
        """The key of the child an enquiry names."""
        names = (subject.surname, *subject.former_surnames)
        return cls(
            surnames=frozenset(normal_name(n) for n in names),
            forename=first_forename(subject.forenames),
            date_of_birth=subject.date_of_birth,
            nhs_number=subject.nhs_number,
        )

    def matches(
        self,
        *,
        surnames: Sequence[str],
        forenames: str,
        date_of_birth: date,
        nhs_number: str | None = None,
    ) -> bool:
        """Same date of birth and first forename, a surname in common, and no conflicting NHS
        number (a record without one matches on the demographics alone)."""
        if date_of_birth != self.date_of_birth or first_forename(forenames) != self.forename:
            return False
        if self.nhs_number and nhs_number and self.nhs_number != nhs_number:
            return False
        return bool(self.surnames.intersection(normal_name(s) for s in surnames))
