"""SI 2024/208 as the adapter applies it: which event needs which return, and by when.

Pure functions of an event, the school's policy and a day: no database, no clock. The service
calls them and acts on the decision; the unit tests call them directly.

- New pupil return (reg 13(1)-(3)): by the end of the 5th day after entry. Pupils joining the
  most junior class on the first day of the school year are exempt unless the LA asks.
- Deletion return (reg 13(4)-(6)): every reg 9(1) ground, as soon as it is met and no later
  than the deletion; leavers from the top year at the end of the year are exempt, except under
  9(1)(h) and 9(1)(i), whose deletion needs the LA's joint enquiries whatever the year. Under
  those two grounds the return goes at once (it starts the LA's joint enquiries) but the
  deletion itself is held until the LA's `cme.enquiries_complete`. A return waiting for a
  named new school's answer waits no later than the eve of the deletion, except under
  9(1)(a) (see `latest_wait`).
- Non-arrival: at the earliest opportunity (DfE CME guidance); no threshold.
- Attendance return: from 10 continuous school days of unauthorised absence (G, N, O, U).
- Sickness return: from 15 school days expected absence through illness.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Final
from uuid import UUID

from adapters.school.calendar import SchoolCalendar
from adapters.school.events import Absence, Leaver, NewPupil, NonArrival, Sickness
from schemas.agency import code_of
from schemas.domain import DeletionGround

NEW_PUPIL_DAYS: Final = 5
"""Calendar days after entry by whose end the new pupil return is due (reg 13(3))."""
ATTENDANCE_THRESHOLD: Final = 10
SICKNESS_THRESHOLD: Final = 15
EARLY_ENTRY_WINDOW: Final = timedelta(days=14)
"""An entry dated up to two weeks before the first day still counts as joining on it: some
MIS record the registration when the place is taken up, before term starts."""


@dataclass(frozen=True, slots=True)
class SchoolPolicy:
    """What the rules need to know about one school. `junior_year` and `top_year` unset mean
    the exemptions are never applied: a return too many is harmless, one too few loses a
    child."""

    school_id: str
    junior_year: str | None = None
    top_year: str | None = None
    la_wants_junior_returns: bool = False
    """The LA asked for new pupil returns of junior-class pupils too (reg 13(2))."""
    independent: bool = False
    """An independent school: where a share is not a legal obligation it rests on Art 6(1)(ea)
    (recognised legitimate interests), not on a public task it does not have."""
    destination_wait_days: int = 3
    """School days a leaver's return waits for the new school, after the later of today and
    the expected start date."""
    destination_max_wait_days: int = 10
    """School days a leaver's return waits at most, whatever the start date."""
    check_grace_days: int = 2
    """School days the new school keeps a check open after the expected start date."""
    calendar: SchoolCalendar = field(default_factory=SchoolCalendar)

    @property
    def laestab(self) -> str:
        """The school's LAESTAB."""
        return code_of(self.school_id)

    @property
    def la_id(self) -> str:
        """The school's LA: a LAESTAB starts with its LA's code."""
        return f"la:{self.laestab[:3]}"


class Outcome(StrEnum):
    """What became of one event."""

    SENT = "sent"
    """The return was staged for the LA."""
    EXEMPT = "exempt"
    """The regulations exempt it from a return."""
    NOT_REQUIRED = "not_required"
    """Below the threshold: no return (yet)."""
    AWAITING_DESTINATION = "awaiting_destination"
    """A destination check went to the named new school; the return waits for its answer."""
    RECORDED = "recorded"
    """No return: the roll was updated (a pupil already on it)."""
    DUPLICATE = "duplicate"
    """Seen before (same idempotency key): nothing sent again."""


@dataclass(frozen=True, slots=True)
class ReturnDecision:
    """Whether a return is required, why (a reason code), and its statutory deadline.
    `exempt`: not required because the regulations exempt it (not a threshold unmet)."""

    required: bool
    reason: str
    due_on: date | None = None
    exempt: bool = False


def new_pupil_decision(event: NewPupil, policy: SchoolPolicy) -> ReturnDecision:
    """Reg 13(1)-(3): a return for every new pupil, except the first-day junior class."""
    if _joined_junior_class_on_first_day(event, policy) and not policy.la_wants_junior_returns:
        return ReturnDecision(False, "junior_class_first_day", exempt=True)
    due = event.entry_date + timedelta(days=NEW_PUPIL_DAYS)
    return ReturnDecision(True, "new_pupil_return", due)


def _joined_junior_class_on_first_day(event: NewPupil, policy: SchoolPolicy) -> bool:
    if policy.junior_year is None or event.year_group != policy.junior_year:
        return False
    # A school year's first day always falls in the calendar year its autumn term starts.
    first = policy.calendar.first_day(event.entry_date.year)
    return first - EARLY_ENTRY_WINDOW <= event.entry_date <= first


def leaver_decision(event: Leaver, policy: SchoolPolicy) -> ReturnDecision:
    """Reg 13(4)-(6): a return on every reg 9(1) ground, except top-year leavers at the end of
    the year. Due no later than the deletion.

    The exemption never covers 9(1)(h) or 9(1)(i): those deletions may only be made after the
    school and the LA have jointly made reasonable enquiries, and the return is what starts
    the LA's side of them (an exempt deletion would be neither returned nor held)."""
    if is_top_year_leaver(event, policy) and not holds_deletion(event):
        return ReturnDecision(False, "top_year_end_of_year", exempt=True)
    letter = event.ground.value[-2]  # "9(1)(g)" -> "g"
    return ReturnDecision(True, f"ground_{letter}", event.deletion_date)


def is_top_year_leaver(event: Leaver, policy: SchoolPolicy) -> bool:
    """In the top year, and deleted between the last day of the year and the next year's
    first day."""
    if policy.top_year is None or event.year_group != policy.top_year:
        return False
    day = event.deletion_date
    year_end = policy.calendar.last_day(day.year - 1)
    next_start = policy.calendar.first_day(day.year)
    return year_end <= day < next_start


def holds_deletion(event: Leaver) -> bool:
    """9(1)(h) and 9(1)(i): the deletion waits for the LA's joint enquiries."""
    return event.ground.needs_joint_enquiries


def needs_destination_check(event: Leaver, policy: SchoolPolicy) -> bool:
    """A named new school (not this one) is asked before the return records the destination:
    a parent's word is not enough."""
    named = event.named_school
    return named is not None and named.laestab != policy.laestab


def latest_wait(event: Leaver) -> date | None:
    """The last day a leaver's return may wait for the named new school's answer: the eve of
    the deletion, since reg 13(4) wants the return "no later than the deletion" and the sweep
    sends a waiting return the day after its `confirm_by` day.

    None (no cap but the maximum wait) under 9(1)(a): that ground *is* the registration at
    the other school, so it is not met, and the name may not be deleted, until the new
    school confirms it; the return goes with the confirmation or at the maximum wait."""
    if event.ground is DeletionGround.A:
        return None
    return event.deletion_date - timedelta(days=1)


def confirm_by(
    policy: SchoolPolicy, today: date, expected_start: date | None, latest: date | None = None
) -> date:
    """The day the held return stops waiting for the new school: a few school days after the
    later of today and the expected start, but never more than the maximum wait from today
    (a child between schools is a child at risk of going missing), nor after `latest`
    (`latest_wait`). A day before today means there is no time to wait: the return goes at
    once."""
    calendar = policy.calendar
    base = max(today, expected_start or today)
    wanted = calendar.add_school_days(base, policy.destination_wait_days)
    capped = min(wanted, calendar.add_school_days(today, policy.destination_max_wait_days))
    return capped if latest is None else min(capped, latest)


def check_answer_by(policy: SchoolPolicy, today: date, expected_start: date | None) -> date | None:
    """At the new school: until when an unmatched check stays open (a pupil is entered on the
    register on the first day they attend, so a future start cannot be confirmed yet). None:
    answer at once."""
    if expected_start is None or expected_start < today:
        return None
    return policy.calendar.add_school_days(expected_start, policy.check_grace_days)


def non_arrival_decision(_event: NonArrival) -> ReturnDecision:
    """Always, at the earliest opportunity after the school's own enquiries."""
    return ReturnDecision(True, "non_arrival")


def attendance_decision(event: Absence) -> ReturnDecision:
    """From 10 continuous school days of unauthorised absence."""
    if event.school_days_absent < ATTENDANCE_THRESHOLD:
        return ReturnDecision(False, "below_10_school_days")
    return ReturnDecision(True, "attendance_return")


def sickness_decision(event: Sickness) -> ReturnDecision:
    """From 15 school days of expected absence through illness."""
    if event.expected_school_days < SICKNESS_THRESHOLD:
        return ReturnDecision(False, "below_15_school_days")
    return ReturnDecision(True, "sickness_return")


@dataclass(frozen=True, slots=True)
class EventResult:
    """What the adapter did with one event: the outcome, a reason code, the messages staged
    (the return, or the destination check), the statutory deadline and whether it was missed.
    Holds no personal data, so a report or a log line may show it whole."""

    kind: str
    outcome: Outcome
    reason: str
    message_ids: tuple[UUID, ...] = ()
    due_on: date | None = None
    late: bool = False
    deletion_id: str | None = None
    """The tracked deletion (awaiting the new school, or held for the LA's enquiries)."""
