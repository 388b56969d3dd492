"""`SocialCareRecords` over a local table: a CSV export of the case management system, or an
SQL table.

Columns (header required, UTF-8, dates YYYY-MM-DD, yes/no flags): `person_id, family,
former_family, given, birth_date, nhs_number, child_protection_plan, looked_after,
last_updated`. The table is read once, when the adapter starts; a row that does not parse
refuses the whole table (naming its line and column).
"""

from pathlib import Path
from typing import Final

from pydantic import TypeAdapter, ValidationError

from adapters.social_care.model import KnownChild
from broker.responder.records import CsvRow, SubjectKey, read_sql_table, read_table
from schemas.identifiers import NhsNumber

COLUMNS: Final = (
    "person_id",
    "family",
    "former_family",
    "given",
    "birth_date",
    "nhs_number",
    "child_protection_plan",
    "looked_after",
    "last_updated",
)
_NHS: TypeAdapter[str] = TypeAdapter(NhsNumber)


class _Row:
    """A parsed row: the record and what it is matched on."""

    def __init__(self, row: CsvRow) -> None:
        self.surnames = tuple(s for s in (row.required("family"), row.text("former_family")) if s)
        self.given = row.required("given")
        birth = row.day("birth_date", required=True)
        assert birth is not None  # required
        self.birth_date = birth
        nhs = row.text("nhs_number")
        try:
            self.nhs_number = _NHS.validate_python(nhs) if nhs else None
        except ValidationError:
            raise row.error("nhs_number", "is not a valid NHS number") from None
        self.record = KnownChild(
            person_id=row.required("person_id"),
            child_protection_plan=row.flag("child_protection_plan"),
            looked_after=row.flag("looked_after"),
            last_updated=row.day("last_updated"),
        )


class TableSocialCareRecords:
    """Children known to social care, read from a CSV file or an SQL table."""

    def __init__(self, rows: list[CsvRow]) -> None:
        self._rows = [_Row(row) for row in rows]

    @classmethod
    def from_csv(cls, path: Path) -> "TableSocialCareRecords":
        """Read and validate a CSV export (raises `SourceDataInvalid`)."""
        return cls(read_table(path, COLUMNS))

    @classmethod
    def from_sql(cls, url: str, table: str) -> "TableSocialCareRecords":
        """Read and validate an SQL table with the same columns (raises `SourceDataInvalid`)."""
        return cls(read_sql_table(url, table, COLUMNS))

    def find(self, child: SubjectKey) -> list[KnownChild]:
        """The records of every child matching (surname or former surname, first forename,
        date of birth, and the NHS number where both sides have one)."""
        return [
            row.record
            for row in self._rows
            if child.matches(
                surnames=row.surnames,
                forenames=row.given,
                date_of_birth=row.birth_date,
                nhs_number=row.nhs_number,
            )
        ]
