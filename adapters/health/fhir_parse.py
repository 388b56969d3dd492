"""Reading a FHIR R4 Patient search response (a `searchset` Bundle, or PDS's
`OperationOutcome` for "too many matches") into `PatientSearch`.

Defensive on purpose: a response that is not what FHIR promises raises `SourceUnavailable`
(the enquiry then goes to a person) rather than being read as fewer patients than it holds,
which could turn an ambiguous search into a "unique" match.
"""

import re
from collections.abc import Mapping
from datetime import date
from typing import Any, Final

from pydantic import ValidationError

from adapters.health.model import PatientRecord, PatientSearch
from broker.responder import SourceUnavailable
from schemas.child import Address

NHS_NUMBER_SYSTEM: Final = "https://fhir.nhs.uk/Id/nhs-number"
ODS_SYSTEM: Final = "https://fhir.nhs.uk/Id/ods-organization-code"
CONFIDENTIALITY_SYSTEM: Final = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
# PDS marks sensitive records "R" (restricted); "V" (very restricted) is stricter still.
RESTRICTED_CODES: Final = frozenset({"R", "V"})
RESTRICTED_DISPLAYS: Final = frozenset({"restricted", "very restricted"})
_ODS_RE = re.compile(r"^[A-Z0-9]{3,10}$")
_ID_RE = re.compile(r"[A-Za-z0-9\-.]{1,64}")  # FHIR R4's `id` datatype
_MAX_LINES: Final = 4


def invalid(what: str) -> SourceUnavailable:
    """The response broke FHIR's promises (names the problem, never a value)."""
    return SourceUnavailable(f"FHIR response: {what}", reason="fhir_response_invalid")


def parse_search(document: object, today: date) -> PatientSearch:
    """The patients of a search response; `too_many` when the search was ambiguous."""
    if not isinstance(document, Mapping):
        raise invalid("not a JSON object")
    kind = document.get("resourceType")
    if kind == "OperationOutcome":
        if _multiple_matches(document):
            return PatientSearch((), too_many=True)
        raise invalid("an OperationOutcome other than multiple matches")
    if kind != "Bundle":
        raise invalid("not a Bundle")
    entries = document.get("entry", [])
    if not isinstance(entries, list):
        raise invalid("entry is not a list")
    patients: list[PatientRecord] = []
    too_many = False
    for item in entries:
        entry = _object(item, "entry")
        resource = _object(entry.get("resource"), "entry.resource")
        mode = _object(entry.get("search", {}), "entry.search").get("mode", "match")
        if resource.get("resourceType") == "OperationOutcome":
            too_many = too_many or _multiple_matches(resource)
        elif resource.get("resourceType") == "Patient" and mode == "match":
            patients.append(parse_patient(resource, today))
    total = document.get("total")
    more_pages = any(
        link.get("relation") == "next" for link in _items(document.get("link", []), "link")
    )
    if (isinstance(total, int) and total > len(patients)) or more_pages:
        too_many = True  # the server holds matches it did not return
    return PatientSearch(tuple(patients), too_many)


def parse_patient(resource: Mapping[str, Any], today: date) -> PatientRecord:
    """A Patient resource reduced to what an answer may use. A Patient without a valid id
    breaks FHIR's promise: the id is how one patient returned twice is told apart from two
    patients, so without it the search cannot be read as a unique match."""
    meta = _object(resource.get("meta", {}), "meta")
    patient_id = resource.get("id")
    if not isinstance(patient_id, str) or not _ID_RE.fullmatch(patient_id):
        raise invalid("a Patient without a valid id")
    return PatientRecord(
        key=patient_id,
        birth_date=_day(resource.get("birthDate")),
        nhs_number=_nhs_number(resource.get("identifier", [])),
        restricted=_restricted(meta.get("security", [])),
        gp_practice=_gp_practice(resource.get("generalPractitioner", []), today),
        address=_address(resource.get("address", []), today),
        last_updated=_day(meta.get("lastUpdated")),
    )


def _object(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise invalid(f"{where} is not an object")
    return value


def _items(value: object, where: str) -> list[Mapping[str, Any]]:
    if not isinstance(value, list):
        raise invalid(f"{where} is not a list")
    return [_object(item, where) for item in value]


def _multiple_matches(outcome: Mapping[str, Any]) -> bool:
    """PDS answers a search matching several patients with this (when it returns none)."""
    for issue in _items(outcome.get("issue", []), "issue"):
        if issue.get("code") == "multiple-matches":
            return True
        details = issue.get("details", {})
        codings = details.get("coding", []) if isinstance(details, Mapping) else []
        if any(isinstance(c, Mapping) and c.get("code") == "TOO_MANY_MATCHES" for c in codings):
            return True
    return False


def _day(value: object) -> date | None:
    """A FHIR date or dateTime's day; None for a partial date (a year) or none at all."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _current(period: object, today: date) -> bool:
    """No period, or one that has started and not ended by `today`."""
    if not isinstance(period, Mapping):
        return True
    start, end = _day(period.get("start")), _day(period.get("end"))
    return (start is None or start <= today) and (end is None or end >= today)


def _nhs_number(identifiers: object) -> str | None:
    for identifier in _items(identifiers, "identifier"):
        if identifier.get("system") == NHS_NUMBER_SYSTEM and isinstance(
            identifier.get("value"), str
        ):
            return str(identifier["value"])
    return None


def _restricted(security: object) -> bool:
    for coding in _items(security, "meta.security"):
        code, display = coding.get("code"), coding.get("display")
        if code in RESTRICTED_CODES or (
            isinstance(display, str) and display.strip().lower() in RESTRICTED_DISPLAYS
        ):
            return True
    return False


def _gp_practice(references: object, today: date) -> str | None:
    """The ODS code of the current registered practice (Patient.generalPractitioner)."""
    for reference in _items(references, "generalPractitioner"):
        identifier = reference.get("identifier")
        if not isinstance(identifier, Mapping) or identifier.get("system") != ODS_SYSTEM:
            continue
        code = str(identifier.get("value") or "").strip().upper()
        if _ODS_RE.match(code) and _current(identifier.get("period"), today):
            return code
    return None


def _address(addresses: object, today: date) -> Address | None:
    """The current address: a temporary one first (where the child is staying now), else the
    home address. None when there is none, or it cannot be expressed as an `Address`."""
    current = [
        a
        for a in _items(addresses, "address")
        if a.get("use", "home") in ("home", "temp") and _current(a.get("period"), today)
    ]
    current.sort(key=lambda a: a.get("use") != "temp")
    return _as_address(current[0]) if current else None


def _as_address(address: Mapping[str, Any]) -> Address | None:
    lines = [str(line).strip() for line in address.get("line", []) or [] if str(line).strip()]
    town = address.get("city") or address.get("district")
    if not town and len(lines) >= 2:
        town = lines.pop()  # PDS writes the town as the last line, with no city
    if len(lines) > _MAX_LINES:
        lines = [*lines[: _MAX_LINES - 1], ", ".join(lines[_MAX_LINES - 1 :])]
    try:
        return Address(lines=tuple(lines), town=str(town or ""), postcode=address.get("postalCode"))
    except ValidationError:
        return None
