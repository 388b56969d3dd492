"""`PatientIndex` over a local table (CSV), for a practice or trust without a FHIR endpoint.

Columns (header required, UTF-8, dates YYYY-MM-DD, yes/no flags):
`family, given, birth_date, nhs_number, gp_ods, restricted, address_line_1, address_line_2,
address_town, address_postcode, last_updated`. Each row is one patient's current registration.
The file is read once, when the adapter starts; a row that does not parse refuses the whole
file (naming its line and column), because a skipped row could make an ambiguous search look
unique.
"""

from datetime import date
from pathlib import Path
from typing import Final

from pydantic import TypeAdapter, ValidationError

from adapters.health.model import PatientQuery, PatientRecord, PatientSearch
from broker.responder import Deadline
from broker.responder.records import CsvRow, SubjectKey, first_forename, normal_name, read_table
from schemas.identifiers import NhsNumber, OdsCode

COLUMNS: Final = (
    "family",
    "given",
    "birth_date",
    "nhs_number",
    "gp_ods",
    "restricted",
    "address_line_1",
    "address_line_2",
    "address_town",
    "address_postcode",
    "last_updated",
)
_NHS: TypeAdapter[str] = TypeAdapter(NhsNumber)
_ODS: TypeAdapter[str] = TypeAdapter(OdsCode)


class CsvPatientIndex:
    """Patients from a CSV table, matched on surname, first forename and date of birth (and
    the NHS number where both sides have one)."""

    def __init__(self, rows: list[tuple[PatientRecord, str, str]]) -> None:
        self._rows = rows

    @classmethod
    def from_csv(cls, path: Path) -> "CsvPatientIndex":
        """Read and validate the table (raises `SourceDataInvalid`)."""
        return cls([_patient(row) for row in read_table(path, COLUMNS)])

    def search(
        self, query: PatientQuery, today: date, deadline: Deadline | None = None
    ) -> PatientSearch:
        """The rows matching the query (the table holds current details only, so `today` is
        not needed; it is in memory, so neither is `deadline`)."""
        key = SubjectKey(
            surnames=frozenset({normal_name(query.family)}),
            forename=first_forename(query.given),
            date_of_birth=query.birth_date,
            nhs_number=query.nhs_number,
        )
        found = tuple(
            patient
            for patient, family, given in self._rows
            if patient.birth_date is not None
            and key.matches(
                surnames=(family,),
                forenames=given,
                date_of_birth=patient.birth_date,
                nhs_number=patient.nhs_number,
            )
        )
        return PatientSearch(found)


def _patient(row: CsvRow) -> tuple[PatientRecord, str, str]:
    nhs = row.text("nhs_number")
    gp = row.text("gp_ods")
    if nhs is not None and not _valid(_NHS, nhs):
        raise row.error("nhs_number", "is not a valid NHS number")
    if gp is not None and not _valid(_ODS, gp.upper()):
        raise row.error("gp_ods", "is not an ODS code")
    record = PatientRecord(
        key=f"line-{row.line}",
        birth_date=row.day("birth_date", required=True),
        nhs_number=nhs.replace(" ", "") if nhs else None,
        restricted=row.flag("restricted"),
        gp_practice=gp.upper() if gp else None,
        address=row.address("address_"),
        last_updated=row.day("last_updated"),
    )
    return record, row.required("family"), row.required("given")


def _valid(kind: TypeAdapter[str], value: str) -> bool:
    try:
        kind.validate_python(value)
    except ValidationError:
        return False
    return True
