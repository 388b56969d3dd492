"""Agency identifiers `KIND:CODE` (DESIGN.md section 1), validated per kind."""

import re
from collections.abc import Callable
from enum import StrEnum
from functools import lru_cache
from typing import Annotated

from pydantic import AfterValidator, WithJsonSchema

from schemas.identifiers import check_la_code, check_laestab
from schemas.reference import current_la_codes


class AgencyKind(StrEnum):
    """The kinds of participant. `hub` is an LA hub's own identity (it signs directory exports)."""

    LA = "la"
    SCHOOL = "school"
    HEALTH = "health"
    HOUSING = "housing"
    SOCIAL_CARE = "social_care"
    POLICE = "police"
    EARLY_YEARS = "early_years"
    HUB = "hub"


_ODS = re.compile(r"^[A-Z0-9]{3,10}$")
_LOCAL = re.compile(r"^(?P<la>[0-9]{3})-[a-z0-9][a-z0-9-]{0,31}$")
_PROVIDER = re.compile(r"^[A-Z0-9]{4,10}$")
_FORCE = re.compile(r"^[0-9]{2}$")
_EARLY_YEARS = re.compile(r"^(EY[0-9]{6}|[0-9]{6,7})$")


def _la_or_provider(code: str) -> None:
    local = _LOCAL.match(code)
    if local:
        check_la_code(local.group("la"))
    elif not _PROVIDER.match(code):
        raise ValueError("housing code must be LA code + local id (330-ta) or a provider id")


def _local_or(pattern: re.Pattern[str], rule: str) -> Callable[[str], None]:
    def check(code: str) -> None:
        local = _LOCAL.match(code)
        if local and local.group("la") in current_la_codes():
            return
        if not pattern.match(code):
            raise ValueError(rule)

    return check


def _matches(pattern: re.Pattern[str], rule: str) -> Callable[[str], None]:
    def check(code: str) -> None:
        if not pattern.match(code):
            raise ValueError(rule)

    return check


_CODE_CHECKS: dict[AgencyKind, Callable[[str], object]] = {
    AgencyKind.LA: check_la_code,
    AgencyKind.SCHOOL: check_laestab,
    AgencyKind.HEALTH: _matches(_ODS, "health code must be an ODS code"),
    AgencyKind.HOUSING: _la_or_provider,
    AgencyKind.SOCIAL_CARE: check_la_code,
    AgencyKind.POLICE: _matches(_FORCE, "police code must be a 2-digit force code"),
    AgencyKind.EARLY_YEARS: _local_or(_EARLY_YEARS, "early years code must be an Ofsted URN"),
    AgencyKind.HUB: check_la_code,
}


@lru_cache(maxsize=4096)  # ids repeat on every message; validation is pure
def check_agency_id(value: str) -> str:
    """Validate `KIND:CODE`; raises ValueError naming the rule (never echoing the value)."""
    kind, sep, code = value.partition(":")
    if not sep or not code:
        raise ValueError("agency id must be KIND:CODE, e.g. la:330")
    try:
        agency_kind = AgencyKind(kind)
    except ValueError:
        raise ValueError("unknown agency kind") from None
    _CODE_CHECKS[agency_kind](code)
    return value


def kind_of(agency_id: str) -> AgencyKind:
    """The kind part of an already validated agency id."""
    return AgencyKind(agency_id.partition(":")[0])


def code_of(agency_id: str) -> str:
    """The code part of an already validated agency id."""
    return agency_id.partition(":")[2]


def _agency_schema(kinds: str, code: str) -> WithJsonSchema:
    pattern = f"^({kinds}):{code}$"
    return WithJsonSchema({"type": "string", "pattern": pattern, "description": "agency id"})


AgencyId = Annotated[
    str,
    AfterValidator(check_agency_id),
    _agency_schema("|".join(AgencyKind), "[A-Za-z0-9-]+"),
]
"""An agency id `KIND:CODE`, e.g. `la:330`, `school:3304000`, `health:M85001`."""


def _of_kind(kind: AgencyKind) -> AfterValidator:
    def check(value: str) -> str:
        if kind_of(value) is not kind:
            raise ValueError(f"agency id must be of kind {kind.value}")
        return value

    return AfterValidator(check)


SchoolId = Annotated[
    str,
    AfterValidator(check_agency_id),
    _of_kind(AgencyKind.SCHOOL),
    _agency_schema("school", "[0-9]{7}"),
]
"""An agency id of kind `school` (`school:LAESTAB`)."""
LaId = Annotated[
    str,
    AfterValidator(check_agency_id),
    _of_kind(AgencyKind.LA),
    _agency_schema("la", "[0-9]{3}"),
]
"""An agency id of kind `la` (`la:` + DfE LA code)."""
