"""Party selectors: which agencies a data sharing agreement (or one of its flows) names.

A selector is one of:

- an exact agency id, written as a plain string: `la:330`, `health:M85001`;
- a kind, optionally scoped to one LA: `{kind: school, la: "330"}`, `{kind: health}`.

The LA scope is read from the agency id itself (the hub routes on ids, not on directory look-ups):

| kind | belongs to LA `NNN` when |
|---|---|
| `la`, `social_care` | the code is `NNN` |
| `school` | the LAESTAB starts with `NNN` |
| `housing`, `early_years` | the code is an LA-local id `NNN-...` (not a provider id or URN) |
| `health`, `police` | never: their codes carry no area (name them by id, or kind-wide) |

A kind-wide selector (`{kind: health}`) matches every agency of that kind; which of them can
actually send is still governed by the directory. A hub routes shares and is never a party.
"""

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from broker.agreements.base import DocumentModel
from schemas.agency import AgencyId, AgencyKind, code_of, kind_of
from schemas.identifiers import check_la_code

LA_SCOPED_KINDS: frozenset[AgencyKind] = frozenset(
    {
        AgencyKind.LA,
        AgencyKind.SOCIAL_CARE,
        AgencyKind.SCHOOL,
        AgencyKind.HOUSING,
        AgencyKind.EARLY_YEARS,
    }
)
"""Kinds whose agency ids can say which LA area the agency belongs to."""

_LA_LOCAL = re.compile(r"^(?P<la>[0-9]{3})-")
LaCode = Annotated[str, AfterValidator(check_la_code)]


def area_of(agency_id: str) -> str | None:
    """The DfE LA code an (already validated) agency id places in an area, or None."""
    kind, code = kind_of(agency_id), code_of(agency_id)
    if kind in (AgencyKind.LA, AgencyKind.SOCIAL_CARE):
        return code
    if kind is AgencyKind.SCHOOL:
        return code[:3]
    if kind in (AgencyKind.HOUSING, AgencyKind.EARLY_YEARS):
        local = _LA_LOCAL.match(code)
        return local.group("la") if local else None
    return None


class PartySelector(DocumentModel):
    """An exact agency, every agency of a kind, or every agency of a kind in one LA's area."""

    agency: AgencyId | None = None
    kind: AgencyKind | None = None
    la: LaCode | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        # `la:330` in a document is far easier to read than `{agency: la:330}`.
        return {"agency": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _one_form(self) -> "PartySelector":
        if (self.agency is None) == (self.kind is None):
            raise ValueError("a party is an agency id or a kind (with an optional la), not both")
        if self.agency is not None and self.la is not None:
            raise ValueError("la scopes a kind; an exact agency id needs none")
        if self.kind is AgencyKind.HUB or (
            self.agency is not None and kind_of(self.agency) is AgencyKind.HUB
        ):
            raise ValueError("a hub routes shares and is never a party to one")
        if self.la is not None and self.kind not in LA_SCOPED_KINDS:
            raise ValueError("this kind's ids carry no LA area: list agency ids or go kind-wide")
        return self

    def matches(self, agency_id: str) -> bool:
        """Whether the (already validated) `agency_id` is one this selector names."""
        if self.agency is not None:
            return agency_id == self.agency
        if kind_of(agency_id) is not self.kind:
            return False
        return self.la is None or area_of(agency_id) == self.la

    def covers(self, other: "PartySelector") -> bool:
        """Whether every agency `other` names is also named by this selector."""
        if other.agency is not None:
            return self.matches(other.agency)
        if self.agency is not None or self.kind is not other.kind:
            return False
        return self.la is None or self.la == other.la

    def __str__(self) -> str:
        if self.agency is not None:
            return self.agency
        assert self.kind is not None  # _one_form: an agency id or a kind
        return f"{self.kind.value} (LA {self.la})" if self.la else f"{self.kind.value} (any)"


def _as_list(value: Any) -> Any:
    # One party may be written without brackets: `to: la:330`.
    return [value] if isinstance(value, (str, dict)) else value


Selectors = Annotated[tuple[PartySelector, ...], BeforeValidator(_as_list), Field(min_length=1)]
"""One or more party selectors (a single one may be written without a list)."""


def any_matches(selectors: tuple[PartySelector, ...], agency_id: str) -> bool:
    """Whether any of `selectors` names `agency_id`."""
    return any(s.matches(agency_id) for s in selectors)
