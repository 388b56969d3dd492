"""Shared building blocks of payloads: the child, addresses, parents, schools.

These carry personal data: they only ever travel inside the encrypted payload, never in the
outer header, a log line or a routing key.
"""

from datetime import date
from typing import Annotated

from pydantic import Field, model_validator

from schemas.base import WireModel
from schemas.domain import Sex
from schemas.identifiers import DestinationLaestab, NhsNumber, Postcode, Upn, Urn

Name = Annotated[str, Field(min_length=1, max_length=100)]
ShortText = Annotated[str, Field(min_length=1, max_length=200)]
LongText = Annotated[str, Field(min_length=1, max_length=2000)]
Phone = Annotated[str, Field(pattern=r"^\+?[0-9 ()-]{6,20}$")]


class Address(WireModel):
    """A postal address. `uprn` is the Unique Property Reference Number where known."""

    lines: tuple[ShortText, ...] = Field(min_length=1, max_length=4)
    town: ShortText
    postcode: Postcode | None = None
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] = "GB"
    uprn: Annotated[str, Field(pattern=r"^[0-9]{1,12}$")] | None = None


class ChildCore(WireModel):
    """Who the child is. At least one of UPN, NHS number or date of birth must be present."""

    forenames: Name
    surname: Name
    former_surnames: tuple[Name, ...] = ()
    date_of_birth: date
    sex: Sex = Sex.UNKNOWN
    upn: Upn | None = None
    nhs_number: NhsNumber | None = None
    addresses: tuple[Address, ...] = Field(default=(), max_length=5)


class ChildIdentity(ChildCore):
    """The child, with the optional consistent identifier (Children Act 2004 s16LC).

    The consistent identifier is its own field, separate from UPN and NHS number, because which
    identifier regulations will name is not yet confirmed.
    """

    consistent_identifier: Annotated[str, Field(min_length=1, max_length=64)] | None = None


class ParentCarer(WireModel):
    """A parent or carer the child lives with (reg 13(5) deletion return content)."""

    name: Name
    relationship: Annotated[str, Field(min_length=1, max_length=50)]
    address: Address | None = None
    emergency_phone: Phone | None = None


class SchoolRef(WireModel):
    """A school by LAESTAB (and URN where known). `XXXXXXX` means destination unknown."""

    laestab: DestinationLaestab
    urn: Urn | None = None
    name: ShortText | None = None

    @property
    def is_unknown(self) -> bool:
        """True for the lost-pupil convention (destination unknown)."""
        return self.laestab == "XXXXXXX"


class NewSchool(WireModel):
    """The school a leaver is going to, and the start date when known."""

    school: SchoolRef
    start_date: date | None = None

    @model_validator(mode="after")
    def _unknown_has_no_start(self) -> "NewSchool":
        if self.school.is_unknown and self.start_date is not None:
            raise ValueError("an unknown destination school cannot have a start date")
        return self


class PupilSummary(WireModel):
    """The least that identifies a pupil between schools and LAs: names, date of birth, and the
    UPN where the pupil has one (UPNs belong to the education context only).
    """

    forenames: Name
    surname: Name
    date_of_birth: date
    upn: Upn | None = None


def check_not_before_birth(date_of_birth: date, when: date | None, field: str) -> None:
    """Refuse an event dated before the child was born (names the field, not the dates)."""
    if when is not None and when < date_of_birth:
        raise ValueError(f"{field} is before the child's date of birth")
