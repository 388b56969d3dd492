"""Messages a school sends: statutory returns to its LA, and the leaver destination check
between schools (DESIGN.md section 6; `shared/domain/timescales.md`).
"""

from datetime import date
from enum import StrEnum
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, model_validator

from schemas.agency import SchoolId
from schemas.base import DISTINCT, WireModel
from schemas.child import (
    Address,
    ChildIdentity,
    LongText,
    ParentCarer,
    PupilSummary,
    SchoolRef,
    check_not_before_birth,
)
from schemas.registry import MessageSpec

NEW_PUPIL_RETURN = "school.new_pupil_return"
NON_ARRIVAL = "school.non_arrival"
ATTENDANCE_RETURN = "school.attendance_return"
SICKNESS_RETURN = "school.sickness_return"
DESTINATION_CHECK = "school.destination_check"
DESTINATION_CONFIRMATION = "school.destination_confirmation"

YearGroup = Annotated[str, Field(pattern=r"^(N1|N2|R|[1-9]|1[0-3])$")]
"""National curriculum year group: nursery N1/N2, reception R, then 1 to 13."""
AbsenceCode = Literal["G", "N", "O", "U"]
"""Attendance register codes of unauthorised absence (SI 2024/208)."""


class NewPupilReturnV1(WireModel):
    """New pupil return, SI 2024/208 reg 13(1)-(3): sent by a school to its LA with everything
    entered in the admission register, by the end of the 5th day after the pupil's name is
    entered. Pupils joining the most junior class on the first day of the school year are exempt
    unless the LA asks for them.
    """

    school: SchoolId
    child: ChildIdentity
    entry_date: date
    year_group: YearGroup
    parents: tuple[ParentCarer, ...] = Field(default=(), max_length=4)
    previous_school: SchoolRef | None = None

    @model_validator(mode="after")
    def _dates_consistent(self) -> "NewPupilReturnV1":
        check_not_before_birth(self.child.date_of_birth, self.entry_date, "entry_date")
        return self


class NonArrivalV1(WireModel):
    """Non-arrival: sent by a school to its LA at the earliest opportunity, after the school's
    own enquiries, when a pupil did not start on the agreed date (DfE CME statutory guidance).
    """

    school: SchoolId
    child: ChildIdentity
    expected_start_date: date
    school_enquiries: LongText | None = None
    """What the school has done to find the child (calls, home visit) and what it learnt."""
    last_known_address: Address

    @model_validator(mode="after")
    def _dates_consistent(self) -> "NonArrivalV1":
        dob = self.child.date_of_birth
        check_not_before_birth(dob, self.expected_start_date, "expected_start_date")
        return self


class AttendanceReturnV1(WireModel):
    """Attendance return, SI 2024/208: sent by a school to its LA for a pupil with at least 10
    continuous school days of unauthorised absence (codes G, N, O, U), at intervals agreed with
    the LA (customarily at least monthly).
    """

    school: SchoolId
    child: ChildIdentity
    absence_start: date
    school_days_absent: Annotated[int, Field(ge=10, le=400)]
    absence_codes: Annotated[tuple[AbsenceCode, ...], Field(min_length=1, max_length=4), DISTINCT]
    whereabouts_known: bool
    """False when the school does not know where the child is: a likely CME referral."""

    @model_validator(mode="after")
    def _dates_consistent(self) -> "AttendanceReturnV1":
        check_not_before_birth(self.child.date_of_birth, self.absence_start, "absence_start")
        return self


class SicknessReturnV1(WireModel):
    """Sickness return, SI 2024/208: sent by a school to its LA, termly, for a pupil expected to
    miss 15 school days or more through illness; it prompts the LA's Education Act 1996 s19
    duty to arrange suitable education. Special category data (the fact of illness), so it
    carries no diagnosis.
    """

    school: SchoolId
    child: ChildIdentity
    illness_start: date
    expected_school_days: Annotated[int, Field(ge=15, le=400)]

    @model_validator(mode="after")
    def _dates_consistent(self) -> "SicknessReturnV1":
        check_not_before_birth(self.child.date_of_birth, self.illness_start, "illness_start")
        return self


class DestinationCheckV1(WireModel):
    """Destination check: sent by a leaver's school to the new school the parent named (through
    both LAs' hubs when it is in another area), asking whether the pupil is registered there,
    before a deletion under reg 9(1)(a). Carries only what the new school needs to find the
    pupil on its roll.
    """

    from_school: SchoolId
    to_school: SchoolId
    child: PupilSummary
    expected_start_date: date | None = None

    @model_validator(mode="after")
    def _distinct_schools(self) -> "DestinationCheckV1":
        if self.from_school == self.to_school:
            raise ValueError("to_school must differ from from_school")
        dob = self.child.date_of_birth
        check_not_before_birth(dob, self.expected_start_date, "expected_start_date")
        return self


class RegistrationStatus(StrEnum):
    """The new school's answer to a destination check."""

    REGISTERED = "registered"
    NOT_REGISTERED = "not_registered"
    NOT_KNOWN = "not_known"
    """The school cannot match the pupil with confidence."""


class DestinationConfirmationV1(WireModel):
    """Destination confirmation: the new school's reply to `school.destination_check`, sent to
    the old school. Registered (with the start date), not registered, or not known; the old
    school records it in its deletion return (`destination_confirmed`).
    """

    check_message_id: UUID
    status: RegistrationStatus
    start_date: date | None = None

    @model_validator(mode="after")
    def _start_date_iff_registered(self) -> "DestinationConfirmationV1":
        registered = self.status is RegistrationStatus.REGISTERED
        if registered != (self.start_date is not None):
            raise ValueError("start_date is required when registered and only then")
        return self


SPECS = (
    MessageSpec(NEW_PUPIL_RETURN, 1, NewPupilReturnV1, sender_field="school"),
    MessageSpec(NON_ARRIVAL, 1, NonArrivalV1, sender_field="school"),
    MessageSpec(ATTENDANCE_RETURN, 1, AttendanceReturnV1, sender_field="school"),
    MessageSpec(SICKNESS_RETURN, 1, SicknessReturnV1, special_category=True, sender_field="school"),
    MessageSpec(
        DESTINATION_CHECK,
        1,
        DestinationCheckV1,
        sender_field="from_school",
        recipient_field="to_school",
    ),
    MessageSpec(DESTINATION_CONFIRMATION, 1, DestinationConfirmationV1),
)
