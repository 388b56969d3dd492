"""The local records tables: CSV files (health, housing, social care) and an SQL table
(housing), read once and refused whole, by line and column, when a row does not parse."""

import csv
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Boolean, Column, Date, MetaData, String, Table

from adapters.health.csv_index import COLUMNS as HEALTH_COLUMNS
from adapters.health.csv_index import CsvPatientIndex
from adapters.health.model import PatientQuery
from adapters.health.source import HealthSource
from adapters.housing.model import Tenure
from adapters.housing.table import COLUMNS as HOUSING_COLUMNS
from adapters.housing.table import TableHousingRecords
from adapters.social_care.table import COLUMNS as SOCIAL_CARE_COLUMNS
from adapters.social_care.table import TableSocialCareRecords
from broker.db import make_engine
from broker.responder import Answered, SourceDataInvalid
from broker.responder.records import SubjectKey
from tests.unit.responders_builders import (
    CHILD_DOB,
    NHS_NUMBER,
    SURNAME,
    TODAY,
    address,
    enquiry,
    nhs_number,
    subject,
)

Row = dict[str, str]


def write(path: Path, columns: tuple[str, ...], rows: list[Row]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in columns})
    return path


def patient_row(**overrides: str) -> Row:
    row = {
        "family": SURNAME.upper(),
        "given": "Isla",
        "birth_date": CHILD_DOB.isoformat(),
        "nhs_number": NHS_NUMBER,
        "gp_ods": "m85001",
        "restricted": "no",
        "address_line_1": "12 Example Road",
        "address_town": "Exampleton",
        "address_postcode": "ZZ99 1AB",
        "last_updated": "2026-10-01",
    }
    return row | overrides


def test_a_health_table_answers_like_fhir(tmp_path: Path) -> None:
    rows = [patient_row(), patient_row(given="Noah", nhs_number=nhs_number(9))]
    index = CsvPatientIndex.from_csv(write(tmp_path / "p.csv", HEALTH_COLUMNS, rows))
    result = HealthSource(index).locate(enquiry(nhs_number=NHS_NUMBER), TODAY)
    assert isinstance(result, Answered)
    assert result.answer.registered_gp == "M85001"
    assert result.answer.current_address == address()
    query = PatientQuery(SURNAME, "Isla", CHILD_DOB, nhs_number(500))
    assert index.search(query, TODAY).patients == ()  # another NHS number rules the row out


@pytest.mark.parametrize(
    ("bad", "where"),
    [
        ({"birth_date": "01/05/2015"}, "line 3: birth_date"),
        ({"nhs_number": "9000000001"}, "line 3: nhs_number"),
        ({"restricted": "maybe"}, "line 3: restricted"),
        ({"address_postcode": "NOT A POSTCODE"}, "line 3: address_postcode"),
    ],
)
def test_a_bad_row_refuses_the_table_naming_line_and_column(
    tmp_path: Path, bad: Row, where: str
) -> None:
    path = write(tmp_path / "p.csv", HEALTH_COLUMNS, [patient_row(), patient_row(**bad)])
    with pytest.raises(SourceDataInvalid) as caught:
        CsvPatientIndex.from_csv(path)
    assert where in str(caught.value)
    assert all(value not in str(caught.value) for value in bad.values())


def test_a_table_missing_a_column_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "p.csv", HEALTH_COLUMNS[:3], [patient_row()])
    with pytest.raises(SourceDataInvalid) as caught:
        CsvPatientIndex.from_csv(path)
    assert caught.value.reason == "source_header_invalid"
    with pytest.raises(SourceDataInvalid) as missing:
        CsvPatientIndex.from_csv(tmp_path / "absent.csv")
    assert missing.value.reason == "source_unreadable"


def housing_row(**overrides: str) -> Row:
    row = {
        "person_id": "H-1",
        "family": SURNAME,
        "former_family": "Brackenridge",
        "given": "Isla",
        "birth_date": CHILD_DOB.isoformat(),
        "tenure": "temporary_accommodation",
        "address_line_1": "12 Example Road",
        "address_town": "Exampleton",
        "address_postcode": "ZZ99 1AB",
        "start_date": "2026-06-01",
        "confidential": "",
    }
    return row | overrides


def test_housing_records_from_csv_match_on_a_former_surname(tmp_path: Path) -> None:
    rows = [housing_row(), housing_row(person_id="H-2", given="Noah")]
    records = TableHousingRecords.from_csv(write(tmp_path / "h.csv", HOUSING_COLUMNS, rows))
    key = SubjectKey.of(subject(surname="Newname", former_surnames=("Brackenridge",)))
    (found,) = records.find(key)
    assert (found.person_id, found.tenure, found.address) == (
        "H-1",
        Tenure.TEMPORARY_ACCOMMODATION,
        address(),
    )
    bad = write(tmp_path / "bad.csv", HOUSING_COLUMNS, [housing_row(moved_out="2026-01-01")])
    with pytest.raises(SourceDataInvalid, match="line 2: moved_out is before start_date"):
        TableHousingRecords.from_csv(bad)


def test_housing_records_from_an_sql_table(db_url: str) -> None:
    engine = make_engine(db_url)
    metadata = MetaData()
    types = {"birth_date": Date, "start_date": Date, "moved_out": Date, "last_updated": Date}
    columns = [Column(c, types.get(c, String(100))) for c in HOUSING_COLUMNS]
    columns[HOUSING_COLUMNS.index("confidential")] = Column("confidential", Boolean)
    table = Table("housing_records", metadata, *columns)
    metadata.create_all(engine)
    values = housing_row(tenure="tenancy") | {"forwarding_line_1": "9 New Lane"}
    row: dict[str, object] = {c: values.get(c) or None for c in HOUSING_COLUMNS}
    row |= {"birth_date": CHILD_DOB, "start_date": date(2020, 1, 1), "moved_out": date(2026, 9, 30)}
    row |= {
        "forwarding_town": "Exampleton",
        "forwarding_postcode": "ZZ99 5NL",
        "confidential": False,
    }
    with engine.begin() as connection:
        connection.execute(table.insert(), [row])
    engine.dispose()

    records = TableHousingRecords.from_sql(db_url, "housing_records")
    (found,) = records.find(SubjectKey.of(subject()))
    assert found.moved_out == date(2026, 9, 30)
    assert found.forwarding_address == address("9 New Lane", "ZZ99 5NL")
    with pytest.raises(SourceDataInvalid):
        TableHousingRecords.from_sql(db_url, "no_such_table")
    with pytest.raises(SourceDataInvalid):
        TableHousingRecords.from_sql(db_url, "housing_records; drop table x")


def test_social_care_records_from_csv(tmp_path: Path) -> None:
    row = {
        "person_id": "C-9",
        "family": SURNAME,
        "given": "Isla",
        "birth_date": CHILD_DOB.isoformat(),
        "nhs_number": NHS_NUMBER,
        "child_protection_plan": "Y",
        "looked_after": "n",
        "last_updated": "2026-10-20",
    }
    path = write(tmp_path / "sc.csv", SOCIAL_CARE_COLUMNS, [row])
    records = TableSocialCareRecords.from_csv(path)
    (child,) = records.find(SubjectKey.of(subject(nhs_number=NHS_NUMBER)))
    assert (child.person_id, child.child_protection_plan, child.looked_after) == (
        "C-9",
        True,
        False,
    )
    assert records.find(SubjectKey.of(subject(nhs_number=nhs_number(77)))) == []
