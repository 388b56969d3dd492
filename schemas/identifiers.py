"""Identifier types with their check algorithms (see `shared/domain/identifiers.md`).

Each type is an `Annotated[str, ...]` so it validates wherever a model uses it and stays a plain
string on the wire. Error messages name the rule that failed, never the value itself, so an
identifier cannot leak into a log through a validation error.
"""

import re
from typing import Annotated, Final

from pydantic import AfterValidator, BeforeValidator, WithJsonSchema

from schemas.reference import current_la_codes

UPN_CHECK_ALPHABET: Final = "ABCDEFGHJKLMNPQRTUVWXYZ"  # 23 letters: no I, O or S
_UPN_RE = re.compile(r"^[A-Z][0-9]{11}[0-9A-Z]$")
_NHS_RE = re.compile(r"^[0-9]{10}$")
_LA_RE = re.compile(r"^[0-9]{3}$")
_LAESTAB_RE = re.compile(r"^[0-9]{7}$")
_URN_RE = re.compile(r"^[0-9]{6}$")
_ODS_RE = re.compile(r"^[A-Z0-9]{3,10}$")
_POSTCODE_RE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})$")
LOST_PUPIL_LAESTAB: Final = "XXXXXXX"


def upn_check_letter(body: str) -> str:
    """Return the check letter for the 12 characters after it (UPN v2.0 algorithm)."""
    if len(body) != 12:
        raise ValueError("a UPN body has 12 characters")
    total = 0
    for position, char in enumerate(body, start=2):
        if char.isdigit():
            value = int(char)
        elif position == 13 and char in UPN_CHECK_ALPHABET:
            value = UPN_CHECK_ALPHABET.index(char)  # temporary UPN: letter counts as its index
        else:
            raise ValueError("a UPN body is 11 digits and a digit or check-alphabet letter")
        total += value * position
    return UPN_CHECK_ALPHABET[total % 23]


def _check_upn(value: str) -> str:
    value = value.strip().upper()
    if not _UPN_RE.match(value):
        raise ValueError("UPN must be a letter, 11 digits and a digit or letter (13 characters)")
    if upn_check_letter(value[1:]) != value[0]:
        raise ValueError("UPN check letter does not match")
    return value


def nhs_check_digit(first_nine: str) -> int | None:
    """Return the NHS number check digit for nine digits, or None when no valid one exists."""
    total = sum(int(d) * w for d, w in zip(first_nine, range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        return 0
    return None if check == 10 else check


def _check_nhs(value: str) -> str:
    value = value.replace(" ", "").replace("-", "")
    if not _NHS_RE.match(value):
        raise ValueError("NHS number must be 10 digits")
    if nhs_check_digit(value[:9]) != int(value[9]):
        raise ValueError("NHS number fails the modulus 11 check")
    return value


def check_la_code(value: str) -> str:
    if not _LA_RE.match(value) or value not in current_la_codes():
        raise ValueError("not a current DfE code of an English local authority")
    return value


def check_laestab(value: str) -> str:
    if not _LAESTAB_RE.match(value):
        raise ValueError("LAESTAB must be 7 digits (LA code + establishment number)")
    check_la_code(value[:3])
    return value


def _check_destination_laestab(value: str) -> str:
    return value if value == LOST_PUPIL_LAESTAB else check_laestab(value)


def _check_pattern(pattern: re.Pattern[str], rule: str) -> AfterValidator:
    def check(value: str) -> str:
        if not pattern.match(value):
            raise ValueError(rule)
        return value

    return AfterValidator(check)


def _normalise_postcode(value: object) -> object:
    if not isinstance(value, str):
        return value
    match = _POSTCODE_RE.match(value.strip().upper())
    if not match:
        raise ValueError("not a UK postcode")
    return f"{match.group(1)} {match.group(2)}"


def _wire_form(pattern: str, description: str) -> WithJsonSchema:
    """The exported JSON Schema of an identifier: its canonical wire form as a pattern.

    The check algorithms (check letter, modulus 11, the LA code list) cannot be expressed in
    JSON Schema; the pattern lets another system catch malformed values before sending.
    """
    return WithJsonSchema({"type": "string", "pattern": pattern, "description": description})


Upn = Annotated[
    str,
    AfterValidator(_check_upn),
    _wire_form(_UPN_RE.pattern, "Unique Pupil Number; the check letter must match"),
]
"""Unique Pupil Number, permanent or temporary, with its check letter verified."""
NhsNumber = Annotated[
    str,
    AfterValidator(_check_nhs),
    _wire_form(_NHS_RE.pattern, "NHS number, 10 digits; the modulus 11 check must pass"),
]
"""NHS number, 10 digits (spaces or hyphens accepted on input), modulus 11 verified."""
LaCode = Annotated[
    str,
    AfterValidator(check_la_code),
    _wire_form(_LA_RE.pattern, "DfE code of a current English local authority"),
]
"""DfE 3-digit code of a current English LA (old codes are valid only inside UPNs)."""
Laestab = Annotated[
    str,
    AfterValidator(check_laestab),
    _wire_form(_LAESTAB_RE.pattern, "LAESTAB: current LA code + 4-digit establishment number"),
]
"""7-digit LAESTAB of a school in a current English LA."""
DestinationLaestab = Annotated[
    str,
    AfterValidator(_check_destination_laestab),
    _wire_form(r"^([0-9]{7}|XXXXXXX)$", "LAESTAB, or XXXXXXX for destination unknown"),
]
"""A LAESTAB, or `XXXXXXX` for "destination unknown" (the lost-pupil convention)."""
Urn = Annotated[
    str,
    _check_pattern(_URN_RE, "URN must be 6 digits"),
    _wire_form(_URN_RE.pattern, "DfE unique reference number of an establishment"),
]
"""6-digit DfE unique reference number of an establishment."""
OdsCode = Annotated[
    str,
    _check_pattern(_ODS_RE, "ODS code must be 3-10 capitals or digits"),
    _wire_form(_ODS_RE.pattern, "NHS Organisation Data Service code"),
]
"""NHS Organisation Data Service code (GP practices, trusts)."""
Postcode = Annotated[
    str,
    BeforeValidator(_normalise_postcode),
    _wire_form(r"^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}$", "UK postcode, capitals, one space"),
]
"""UK postcode, normalised to capitals with one space."""
