"""Synthetic inputs for the school adapter's tests: a fixed day, policies, events and export
rows. Every pupil comes from `schemas.examples.synthetic` (made-up names, fictional streets,
`ZZ99` postcodes, UPNs with computed check letters, NHS numbers in the 999 test range)."""

import csv
import io
import random
from datetime import date
from typing import Any, Final

from adapters.school.calendar import SchoolCalendar, SchoolYearDates
from adapters.school.events import Absence, Leaver, NewPupil, NonArrival, Sickness
from adapters.school.rules import SchoolPolicy
from schemas.child import ChildIdentity, ParentCarer
from schemas.domain import DeletionGround
from schemas.examples.synthetic import Synth

TODAY: Final = date(2026, 11, 2)
"""A Monday in the autumn term (the shared test clock's day)."""
OLD: Final = "school:3304000"
NEW: Final = "school:3304001"
FAR: Final = "school:3314012"
"""A school in the neighbouring LA (331)."""
LA: Final = "la:330"
YEARS: Final = {
    2026: SchoolYearDates(date(2026, 9, 3), date(2027, 7, 21)),
    2027: SchoolYearDates(date(2027, 9, 2), date(2028, 7, 20)),
}
PRIMARY: Final = SchoolPolicy(
    school_id=OLD, junior_year="R", top_year="6", calendar=SchoolCalendar(YEARS)
)


def synth(seed: int) -> Synth:
    """A seeded source of synthetic people."""
    return Synth(random.Random(seed), TODAY)


def child(seed: int = 1, **overrides: Any) -> ChildIdentity:
    """A synthetic child (`overrides` replace fields)."""
    data = synth(seed).child(identity=False)
    data.update(overrides)
    return ChildIdentity.model_validate(data)


def parents(pupil: ChildIdentity, seed: int = 1) -> tuple[ParentCarer, ...]:
    """Synthetic parents living with `pupil`."""
    data = synth(seed).parents(pupil.model_dump(mode="json"))
    return tuple(ParentCarer.model_validate(p) for p in data)


def new_pupil(seed: int = 1, **fields: Any) -> NewPupil:
    pupil = child(seed)
    base: dict[str, Any] = {
        "child": pupil,
        "entry_date": TODAY,
        "year_group": "4",
        "parents": parents(pupil, seed),
    }
    return NewPupil.model_validate(base | fields)


def leaver(ground: DeletionGround = DeletionGround.G, seed: int = 1, **fields: Any) -> Leaver:
    pupil = child(seed)
    base: dict[str, Any] = {
        "child": pupil,
        "ground": ground,
        "deletion_date": TODAY,
        "year_group": "4",
        "parents": parents(pupil, seed),
    }
    return Leaver.model_validate(base | fields)


def named_school(laestab: str, start: date | None = None) -> dict[str, Any]:
    """A leaver's `new_school`."""
    return {"school": {"laestab": laestab, "name": "Example Park Academy"}, "start_date": start}


def non_arrival(seed: int = 1) -> NonArrival:
    return NonArrival(child=child(seed), expected_start_date=TODAY)


def absence(days: int, codes: tuple[str, ...] = ("G", "N"), seed: int = 1) -> Absence:
    return Absence.model_validate(
        {
            "child": child(seed),
            "absence_start": date(2026, 10, 12),
            "school_days_absent": days,
            "absence_codes": codes,
            "whereabouts_known": False,
        }
    )


def sickness(days: int, seed: int = 1) -> Sickness:
    return Sickness(child=child(seed), illness_start=date(2026, 10, 26), expected_school_days=days)


CSV_COLUMNS: Final = (
    "event",
    "event_id",
    "upn",
    "forenames",
    "surname",
    "date_of_birth",
    "sex",
    "nhs_number",
    "address_line_1",
    "town",
    "postcode",
    "parent1_name",
    "parent1_relationship",
    "parent1_phone",
    "year_group",
    "event_date",
    "ground",
    "new_school_laestab",
    "new_school_start_date",
    "school_days_absent",
    "absence_codes",
    "whereabouts_known",
    "expected_school_days",
)


def csv_row(event: str, seed: int = 1, **cells: str) -> dict[str, str]:
    """One export row for a synthetic pupil (`cells` override or add columns)."""
    pupil = child(seed)
    address = pupil.addresses[0]
    parent = parents(pupil, seed)[0]
    row = {
        "event": event,
        "upn": pupil.upn or "",
        "forenames": pupil.forenames,
        "surname": pupil.surname,
        "date_of_birth": pupil.date_of_birth.isoformat(),
        "sex": pupil.sex.value,
        "nhs_number": pupil.nhs_number or "",
        "address_line_1": address.lines[0],
        "town": address.town,
        "postcode": address.postcode or "",
        "parent1_name": parent.name,
        "parent1_relationship": parent.relationship,
        "parent1_phone": parent.emergency_phone or "",
        "year_group": "4",
        "event_date": TODAY.isoformat(),
    }
    return row | cells


def csv_text(rows: list[dict[str, str]]) -> str:
    """An export file with the documented columns (and any extra ones the rows use)."""
    extra = [c for row in rows for c in row if c not in CSV_COLUMNS]
    out = io.StringIO()
    writer = csv.DictWriter(out, [*CSV_COLUMNS, *dict.fromkeys(extra)], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def ctf_pupil(pupil: ChildIdentity, *, leaving: str | None = "2026-10-30") -> str:
    """A CTF `Pupil` element for `pupil`, leaving this school on `leaving`."""
    address = pupil.addresses[0]
    parent = parents(pupil)[0]
    forename, _, surname = parent.name.rpartition(" ")
    history = (
        f"<SchoolHistory><School><LEA>330</LEA><Estab>4000</Estab>"
        f"<EntryDate>2022-09-05</EntryDate><LeavingDate>{leaving}</LeavingDate></School>"
        f"</SchoolHistory>"
        if leaving
        else ""
    )
    return f"""
    <Pupil>
      <UPN>{pupil.upn}</UPN>
      <Surname>{pupil.surname}</Surname>
      <Forename>{pupil.forenames}</Forename>
      <DOB>{pupil.date_of_birth.isoformat()}</DOB>
      <Sex>{pupil.sex.value}</Sex>
      <NCyearActual>5</NCyearActual>
      <Address>
        <BS7666Address><PAON>{address.lines[0]}</PAON><Town>{address.town}</Town></BS7666Address>
        <PostCode>{address.postcode}</PostCode>
      </Address>
      <Contacts>
        <Contact>
          <Forename>{forename}</Forename><Surname>{surname}</Surname>
          <RelationshipCode>PAR</RelationshipCode><Responsibility>true</Responsibility>
          <Phones><Phone>
            <TelephoneNumber>{parent.emergency_phone}</TelephoneNumber>
          </Phone></Phones>
        </Contact>
        <Contact><Forename>A</Forename><Surname>Neighbour</Surname>
          <Responsibility>false</Responsibility></Contact>
      </Contacts>
      {history}
    </Pupil>"""


def ctf_file(dest_lea: str, dest_estab: str, *pupils: str, source: str = "4000") -> bytes:
    """An outgoing CTF of school 330/`source` to `dest_lea`/`dest_estab`."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<CTfile>
  <Header>
    <DocumentName>Common Transfer File</DocumentName>
    <CTFversion>25.0</CTFversion>
    <DateTime>2026-11-02T09:30:00</DateTime>
    <SourceSchool><LEA>330</LEA><Estab>{source}</Estab><SchoolName>Old</SchoolName></SourceSchool>
    <DestSchool><LEA>{dest_lea}</LEA><Estab>{dest_estab}</Estab>
      <SchoolName>Example Park Academy</SchoolName></DestSchool>
  </Header>
  <CTFpupilData>{"".join(pupils)}
  </CTFpupilData>
</CTfile>""".encode()
