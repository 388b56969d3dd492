"""Admission-register events: what a school's MIS tells the adapter (the Python call API).

One frozen model per kind of event. They are inputs to the adapter's rules, not wire
contracts: the rules decide which statutory return (if any) each one needs and build it from
the `schemas.messages` models. The building blocks (child, address, parents, schools) are the
wire models', so an event that validates here builds a return that validates there.
"""

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from schemas.child import (
    Address,
    ChildIdentity,
    LongText,
    NewSchool,
    ParentCarer,
    SchoolRef,
    check_not_before_birth,
)
from schemas.domain import DeletionGround
from schemas.messages.deletion_return import SafeguardingContext
from schemas.messages.school import AbsenceCode, YearGroup

Parents = Annotated[tuple[ParentCarer, ...], Field(max_length=4)]


class _Event(BaseModel):
    """Frozen and strict like the wire models: a typo in a field name is refused, and a
    validation error never carries the value it refused."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", str_strip_whitespace=True, hide_input_in_errors=True
    )

    child: ChildIdentity


class NewPupil(_Event):
    """A pupil's name was entered on the admission register (reg 13(1)-(3) new pupil return)."""

    kind: Literal["new_pupil"] = "new_pupil"
    entry_date: date
    year_group: YearGroup
    parents: Parents = ()
    previous_school: SchoolRef | None = None

    @model_validator(mode="after")
    def _dates(self) -> "NewPupil":
        check_not_before_birth(self.child.date_of_birth, self.entry_date, "entry_date")
        return self


class OnRoll(_Event):
    """A pupil already on the roll (an initial load, or a periodic roll export): no return,
    but the roll the adapter answers other schools' destination checks from learns of them.
    A school that starts using the adapter mid-year loads its roll this way."""

    kind: Literal["on_roll"] = "on_roll"
    entry_date: date

    @model_validator(mode="after")
    def _dates(self) -> "OnRoll":
        check_not_before_birth(self.child.date_of_birth, self.entry_date, "entry_date")
        return self


class Leaver(_Event):
    """A reg 9(1) ground is met: the pupil's name is to be deleted (reg 13(4)-(6) deletion
    return). `year_group` is what the top-year exemption looks at; without it no leaver is
    taken for a top-year leaver."""

    kind: Literal["deletion"] = "deletion"
    ground: DeletionGround
    deletion_date: date
    year_group: YearGroup | None = None
    parents: Parents = ()
    new_school: NewSchool | None = None
    future_address: Address | None = None
    future_address_from: date | None = None
    safeguarding: SafeguardingContext | None = None

    @model_validator(mode="after")
    def _dates(self) -> "Leaver":
        check_not_before_birth(self.child.date_of_birth, self.deletion_date, "deletion_date")
        return self

    @property
    def named_school(self) -> SchoolRef | None:
        """The new school the parent named, unless it is the lost-pupil `XXXXXXX`."""
        if self.new_school is None or self.new_school.school.is_unknown:
            return None
        return self.new_school.school

    @property
    def destination_known(self) -> bool:
        """A named new school or a future address (what reg 13(5) asks the school to give)."""
        return self.named_school is not None or self.future_address is not None


class NonArrival(_Event):
    """The pupil did not start on the agreed date (DfE CME guidance)."""

    kind: Literal["non_arrival"] = "non_arrival"
    expected_start_date: date
    school_enquiries: LongText | None = None
    last_known_address: Address | None = None
    """Defaults to the child's first recorded address."""

    @model_validator(mode="after")
    def _address(self) -> "NonArrival":
        if self.last_known_address is None and not self.child.addresses:
            raise ValueError("a non-arrival needs the last known address")
        dob = self.child.date_of_birth
        check_not_before_birth(dob, self.expected_start_date, "expected_start_date")
        return self

    @property
    def address(self) -> Address:
        """The last known address to report."""
        return self.last_known_address or self.child.addresses[0]


class Absence(_Event):
    """A spell of continuous unauthorised absence (codes G, N, O, U). An attendance return
    is due from 10 continuous school days; a shorter spell needs none yet."""

    kind: Literal["attendance"] = "attendance"
    absence_start: date
    school_days_absent: Annotated[int, Field(ge=1, le=400)]
    absence_codes: Annotated[tuple[AbsenceCode, ...], Field(min_length=1, max_length=4)]
    whereabouts_known: bool

    @model_validator(mode="after")
    def _dates(self) -> "Absence":
        check_not_before_birth(self.child.date_of_birth, self.absence_start, "absence_start")
        return self


class Sickness(_Event):
    """A pupil expected to miss school through illness. A sickness return is due from 15
    school days expected; fewer need none."""

    kind: Literal["sickness"] = "sickness"
    illness_start: date
    expected_school_days: Annotated[int, Field(ge=1, le=400)]

    @model_validator(mode="after")
    def _dates(self) -> "Sickness":
        check_not_before_birth(self.child.date_of_birth, self.illness_start, "illness_start")
        return self


SchoolEvent = Annotated[
    NewPupil | OnRoll | Leaver | NonArrival | Absence | Sickness, Field(discriminator="kind")
]
"""Any admission-register event, told apart by `kind`."""
EVENT: TypeAdapter[SchoolEvent] = TypeAdapter(SchoolEvent)
"""Validates a mapping into the event model its `kind` names."""
EventKind = Literal["new_pupil", "on_roll", "deletion", "non_arrival", "attendance", "sickness"]
EVENT_KINDS: tuple[EventKind, ...] = (
    "new_pupil",
    "on_roll",
    "deletion",
    "non_arrival",
    "attendance",
    "sickness",
)
