"""One parsed row of an export file: an event to submit, or the reason it cannot be.

Both readers (CSV and CTF) produce these, with the row's line number in the file, so the
importer reports every bad row where a person can find it, and goes on with the good ones.
A problem names the column or field and the rule that failed, never the value.
"""

from dataclasses import dataclass
from typing import Final

from pydantic import ValidationError

from adapters.school.events import SchoolEvent


@dataclass(frozen=True, slots=True)
class RowProblem:
    """Why a row was not processed: a reason code and the column(s) and rule at fault."""

    line: int
    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class ParsedRow:
    """A row that is an event (with the MIS's own event id when the file gives one)."""

    line: int
    event: SchoolEvent
    event_id: str | None = None


# The model's field paths as the CSV names them (what a person looks for in the file).
_COLUMNS: Final = {
    "child.upn": "upn",
    "child.nhs_number": "nhs_number",
    "child.date_of_birth": "date_of_birth",
    "child.forenames": "forenames",
    "child.surname": "surname",
    "child.sex": "sex",
    "child.addresses.0.postcode": "postcode",
    "child.addresses.0.town": "town",
    "child.addresses.0.lines": "address_line_1",
    "entry_date": "event_date",
    "deletion_date": "event_date",
    "expected_start_date": "event_date",
    "absence_start": "event_date",
    "illness_start": "event_date",
    "new_school.school.laestab": "new_school_laestab",
    "new_school.start_date": "new_school_start_date",
    "new_school": "new_school_start_date",
    "previous_school.laestab": "previous_school_laestab",
    "future_address.postcode": "future_postcode",
}


def _column(loc: tuple[int | str, ...]) -> str:
    path = ".".join(str(part) for part in loc)
    if path in _COLUMNS:
        return _COLUMNS[path]
    if path.startswith("parents."):
        return f"parent{int(str(loc[1])) + 1}_" + ".".join(str(p) for p in loc[2:])
    return path


def problem_from_validation(line: int, kind: str, exc: ValidationError) -> RowProblem:
    """A row problem from a model's validation errors: each field and rule, no values."""
    parts = []
    for error in exc.errors(include_input=False, include_url=False):
        loc = tuple(error["loc"])
        if loc and loc[0] == kind:  # the discriminated union's tag
            loc = loc[1:]
        message = str(error["msg"]).removeprefix("Value error, ")
        column = _column(loc)
        parts.append(f"{column}: {message}" if column else message)  # a whole-row rule
    return RowProblem(line, "invalid_field", "; ".join(dict.fromkeys(parts)))
