"""`HousingRecords` over a local table: a CSV export of the housing system, or an SQL table.

Columns (header required, UTF-8, dates YYYY-MM-DD, yes/no flags): `person_id, family,
former_family, given, birth_date, tenure (tenancy | temporary_accommodation),
address_line_1, address_line_2, address_town, address_postcode, start_date, moved_out,
forwarding_line_1, forwarding_line_2, forwarding_town, forwarding_postcode, confidential,
last_updated`. One row per person per stay. The table is read once, when the adapter starts;
a row that does not parse refuses the whole table (naming its line and column).
"""

from pathlib import Path
from typing import Final

from adapters.housing.model import TenancyRecord, Tenure
from broker.responder.records import CsvRow, SubjectKey, read_sql_table, read_table

COLUMNS: Final = (
    "person_id",
    "family",
    "former_family",
    "given",
    "birth_date",
    "tenure",
    "address_line_1",
    "address_line_2",
    "address_town",
    "address_postcode",
    "start_date",
    "moved_out",
    "forwarding_line_1",
    "forwarding_line_2",
    "forwarding_town",
    "forwarding_postcode",
    "confidential",
    "last_updated",
)


class _Row:
    """A parsed row: the record and the names it is matched on."""

    def __init__(self, row: CsvRow) -> None:
        self.family = row.required("family")
        self.former_family = row.text("former_family")
        self.given = row.required("given")
        birth = row.day("birth_date", required=True)
        assert birth is not None  # required
        self.birth_date = birth
        tenure = row.required("tenure")
        if tenure not in Tenure.__members__.values():
            raise row.error("tenure", "is not tenancy or temporary_accommodation")
        address = row.address("address_")
        if address is None:
            raise row.error("address_line_1", "is empty")
        record = TenancyRecord(
            person_id=row.required("person_id"),
            tenure=Tenure(tenure),
            address=address,
            start_date=row.day("start_date"),
            moved_out=row.day("moved_out"),
            forwarding_address=row.address("forwarding_"),
            confidential=row.flag("confidential"),
            last_updated=row.day("last_updated"),
        )
        if record.start_date and record.moved_out and record.moved_out < record.start_date:
            raise row.error("moved_out", "is before start_date")
        self.record = record


class TableHousingRecords:
    """Housing records read from a CSV file or an SQL table."""

    def __init__(self, rows: list[CsvRow]) -> None:
        self._rows = [_Row(row) for row in rows]

    @classmethod
    def from_csv(cls, path: Path) -> "TableHousingRecords":
        """Read and validate a CSV export (raises `SourceDataInvalid`)."""
        return cls(read_table(path, COLUMNS))

    @classmethod
    def from_sql(cls, url: str, table: str) -> "TableHousingRecords":
        """Read and validate an SQL table with the same columns (raises `SourceDataInvalid`)."""
        return cls(read_sql_table(url, table, COLUMNS))

    def find(self, child: SubjectKey) -> list[TenancyRecord]:
        """The records of every person matching the child (surname or former surname, first
        forename, date of birth)."""
        return [
            row.record
            for row in self._rows
            if child.matches(
                surnames=(row.family, *((row.former_family,) if row.former_family else ())),
                forenames=row.given,
                date_of_birth=row.birth_date,
            )
        ]
