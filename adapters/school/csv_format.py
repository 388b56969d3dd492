"""The documented CSV export (`docs/school-csv.md`): one admission-register event per row.

Any MIS can produce it from a report: a header row naming the columns (case, spaces and
column order do not matter; unknown columns are ignored), UTF-8 (a BOM is fine), dates as
`YYYY-MM-DD` or `DD/MM/YYYY`, yes/no as `Y`/`N`, lists separated by `;`. Each data row
becomes a `ParsedRow` or a `RowProblem` with its line number; a bad row never stops the rest.
"""

import csv
import io
import re
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any, Final

from pydantic import ValidationError

from adapters.school.errors import UnreadableFile
from adapters.school.events import EVENT, EVENT_KINDS
from adapters.school.rows import ParsedRow, RowProblem, problem_from_validation
from schemas.domain import DeletionGround

REQUIRED_COLUMNS: Final = ("event", "forenames", "surname", "date_of_birth", "event_date")
_ALIASES: Final = {"leaver": "deletion", "new": "new_pupil", "absence": "attendance"}
_TRUE: Final = frozenset({"y", "yes", "true", "1"})
_FALSE: Final = frozenset({"n", "no", "false", "0"})
_GROUND: Final = re.compile(r"^(?:9\(1\))?\(?([a-o])\)?$")
Data = dict[str, Any]


class CellError(Exception):
    """One cell cannot be read: a reason code and the column (never the cell's value)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def _header_name(name: str) -> str:
    return re.sub(r"[\s-]+", "_", name.strip().lower())


class Cells:
    """One row's cells by normalised column name, with typed readers."""

    def __init__(self, row: dict[str, str | None]) -> None:
        self._row = row

    def text(self, column: str) -> str | None:
        """The cell stripped, or None when empty or absent."""
        value = (self._row.get(column) or "").strip()
        return value or None

    def required(self, column: str, kind: str) -> str:
        """The cell, which a `kind` row must fill."""
        value = self.text(column)
        if value is None:
            raise CellError("missing_value", f"{column}: required in a {kind} row")
        return value

    def day(self, column: str) -> date | None:
        """A date as YYYY-MM-DD or DD/MM/YYYY."""
        value = self.text(column)
        if value is None:
            return None
        for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
            try:
                return datetime.strptime(value, pattern).date()
            except ValueError:
                continue
        raise CellError("bad_date", f"{column}: not a date (YYYY-MM-DD or DD/MM/YYYY)")

    def required_date(self, column: str, kind: str) -> date:
        """A date a `kind` row must give."""
        self.required(column, kind)
        value = self.day(column)
        assert value is not None
        return value

    def number(self, column: str, kind: str) -> int:
        """A whole number a `kind` row must give."""
        value = self.required(column, kind)
        try:
            # int(), not str.isdigit(): "²".isdigit() is True, yet int() refuses it.
            return int(value)
        except ValueError:
            raise CellError("bad_number", f"{column}: not a whole number") from None

    def flag(self, column: str, default: bool | None = None) -> bool | None:
        """Y/N (yes/no, true/false, 1/0)."""
        value = self.text(column)
        if value is None:
            return default
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise CellError("bad_boolean", f"{column}: not Y or N")

    def items(self, column: str) -> list[str]:
        """A `;`-separated list."""
        value = self.text(column)
        return [item.strip() for item in value.split(";") if item.strip()] if value else []


def read_csv(text: str) -> Iterator[ParsedRow | RowProblem]:
    """Parse an export; raises `UnreadableFile` when the header is unreadable or lacks a
    required column. A record the csv module cannot read (a field over its size limit, a
    stray quote) is a row problem, and the rows after it are still read."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    try:
        fieldnames = reader.fieldnames
    except csv.Error:
        raise UnreadableFile("malformed_csv", "the header row is not readable CSV") from None
    if fieldnames is None:
        raise UnreadableFile("empty_file", "no header row")
    reader.fieldnames = [_header_name(name) for name in fieldnames]
    missing = [c for c in REQUIRED_COLUMNS if c not in reader.fieldnames]
    if missing:
        raise UnreadableFile("missing_columns", "header lacks: " + ", ".join(missing))
    records = reader.reader  # its line count moves on past a bad record; the DictReader's not
    while True:
        line = records.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error:
            # Never the csv module's message: it may quote the data.
            yield RowProblem(line, "malformed_csv", "not readable CSV (a stray quote, or a "
                             f"field over {csv.field_size_limit()} characters)")  # fmt: skip
            if records.line_num < line:
                return  # nothing was consumed: the rest cannot be read either
            continue
        if not any((value or "").strip() for value in row.values() if isinstance(value, str)):
            continue  # a blank line is not a row
        yield _parse(line, Cells(row))


def _parse(line: int, cells: Cells) -> ParsedRow | RowProblem:
    kind = "row"
    try:
        kind = _kind(cells)
        data = _event_data(kind, cells)
    except CellError as exc:
        return RowProblem(line, exc.reason, exc.detail)
    except ValueError:  # a conversion the readers above did not foresee; its text may hold data
        return RowProblem(line, "invalid_field", "a cell could not be read")
    try:
        event = EVENT.validate_python(data)
    except ValidationError as exc:
        return problem_from_validation(line, kind, exc)
    return ParsedRow(line, event, cells.text("event_id"))


def _kind(cells: Cells) -> str:
    value = cells.required("event", "any").lower()
    kind = _ALIASES.get(value, value)
    if kind not in EVENT_KINDS:
        raise CellError("unknown_event", "event: not one of " + ", ".join(EVENT_KINDS))
    return kind


def _event_data(kind: str, cells: Cells) -> Data:
    address = _address(cells, "")
    child: Data = {
        "forenames": cells.required("forenames", kind),
        "surname": cells.required("surname", kind),
        "former_surnames": cells.items("former_surnames"),
        "date_of_birth": cells.required_date("date_of_birth", kind),
        "sex": (cells.text("sex") or "U")[0].upper(),
        "upn": cells.text("upn"),
        "nhs_number": cells.text("nhs_number"),
        "consistent_identifier": cells.text("consistent_identifier"),
        "addresses": [address] if address else [],
    }
    data: Data = {"kind": kind, "child": child}
    when = cells.required_date("event_date", kind)
    if kind == "new_pupil":
        data |= {
            "entry_date": when,
            "year_group": cells.required("year_group", kind),
            "parents": _parents(cells, address),
            "previous_school": _school(cells, "previous_school"),
        }
    elif kind == "on_roll":
        data |= {"entry_date": when}
    elif kind == "deletion":
        data |= _leaver(cells, when, address)
    elif kind == "non_arrival":
        data |= {"expected_start_date": when, "school_enquiries": cells.text("school_enquiries")}
    elif kind == "attendance":
        codes = re.findall(r"[A-Za-z]", cells.required("absence_codes", kind))
        data |= {
            "absence_start": when,
            "school_days_absent": cells.number("school_days_absent", kind),
            "absence_codes": [code.upper() for code in dict.fromkeys(codes)],
            "whereabouts_known": cells.flag("whereabouts_known", False),
        }
    else:
        data |= {
            "illness_start": when,
            "expected_school_days": cells.number("expected_school_days", kind),
        }
    return data


def _leaver(cells: Cells, when: date, address: Data | None) -> Data:
    school = _school(cells, "new_school")
    start = cells.day("new_school_start_date")
    flags = cells.items("risk_flags")
    social_care = cells.flag("known_to_social_care", False)
    dsl = cells.flag("dsl_informed", False)
    summary = cells.text("safeguarding_summary")
    safeguarding = None
    if flags or social_care or dsl or summary:
        safeguarding = {
            "risk_flags": flags,
            "known_to_social_care": social_care,
            "designated_safeguarding_lead_informed": dsl,
            "summary": summary,
        }
    return {
        "ground": _ground(cells),
        "deletion_date": when,
        "year_group": cells.text("year_group"),
        "parents": _parents(cells, address),
        "new_school": {"school": school, "start_date": start} if school else None,
        "future_address": _address(cells, "future_"),
        "future_address_from": cells.day("future_address_from"),
        "safeguarding": safeguarding,
    }


def _ground(cells: Cells) -> str:
    value = cells.required("ground", "deletion").lower().replace(" ", "")
    match = _GROUND.match(value)
    if not match:
        raise CellError("unknown_ground", "ground: not a reg 9(1) ground, e.g. 9(1)(g) or g")
    return DeletionGround(f"9(1)({match.group(1)})").value


def _address(cells: Cells, prefix: str) -> Data | None:
    lines = [cells.text(f"{prefix}address_line_{n}") for n in range(1, 5)]
    town = cells.text(f"{prefix}town")
    if not any(lines) and town is None:
        return None
    return {
        "lines": [line for line in lines if line],
        "town": town,
        "postcode": cells.text(f"{prefix}postcode"),
        "country": (cells.text(f"{prefix}country") or "GB").upper(),
        "uprn": cells.text(f"{prefix}uprn"),
    }


def _parents(cells: Cells, address: Data | None) -> list[Data]:
    """Parents 1 and 2. Reg 13 asks for the parents the pupil lives with: their address is
    the pupil's."""
    parents = []
    for n in (1, 2):
        name = cells.text(f"parent{n}_name")
        if name is None:
            continue
        parents.append(
            {
                "name": name,
                "relationship": cells.text(f"parent{n}_relationship") or "parent",
                "address": address,
                "emergency_phone": cells.text(f"parent{n}_phone"),
            }
        )
    return parents


def _school(cells: Cells, prefix: str) -> Data | None:
    laestab = cells.text(f"{prefix}_laestab")
    if laestab is None:
        return None
    return {
        "laestab": laestab.upper(),
        "urn": cells.text(f"{prefix}_urn"),
        "name": cells.text(f"{prefix}_name"),
    }
