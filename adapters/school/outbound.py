"""What the school sends: each message built from an event, justified from the agreements
(`broker.agreements.justify`: Art 6(1)(c) and SI 2024/208 reg 13 for the statutory returns,
as the agreement in force says), and staged in the caller's transaction, so "record the event
+ send its return" commit together or not at all.
"""

import contextlib
from dataclasses import replace
from datetime import date
from typing import Final, Protocol
from uuid import UUID

from sqlmodel import Session

from adapters.school.events import Absence, Leaver, NewPupil, NonArrival, Sickness
from adapters.school.rules import SchoolPolicy
from broker.agreements import AgreementBook, AgreementRefusal, ShareIntent, justify
from broker.clock import Clock
from broker.envelope import Draft, Sealed
from schemas.base import WireModel
from schemas.child import PupilSummary
from schemas.justification import Justification, LawfulBasis
from schemas.messages import deletion_return, school
from schemas.messages.deletion_return import DeletionReturnV2
from schemas.messages.school import (
    AttendanceReturnV1,
    DestinationCheckV1,
    DestinationConfirmationV1,
    NewPupilReturnV1,
    NonArrivalV1,
    RegistrationStatus,
    SicknessReturnV1,
)

ROLE: Final = "school-cme-adapter"
"""Who decides the share: the adapter applying the statutory rules to the MIS's records."""
_NECESSITY: Final = {
    school.NEW_PUPIL_RETURN: "The regulations require the new pupil return (SI 2024/208 reg 13).",
    deletion_return.TYPE: "The regulations require a return before a name leaves the register.",
    school.NON_ARRIVAL: "A pupil who did not start may be missing education: the LA must know.",
    school.ATTENDANCE_RETURN: "10 school days of unauthorised absence: a return is required.",
    school.SICKNESS_RETURN: "Long illness absence: the LA must consider its s19 duty.",
    school.DESTINATION_CHECK: "A leaver's new school must confirm the registration before "
    "the old school relies on the parent's word (reg 9).",
    school.DESTINATION_CONFIRMATION: "The old school needs the answer to complete its "
    "deletion return.",
}


class Outbox(Protocol):
    """Where sealed messages wait to be published (the agency client's transactional outbox)."""

    def stage(self, session: Session, draft: Draft) -> Sealed:
        """Seal `draft` into the outbox within the caller's transaction."""
        ...


def pupil_summary(event: Leaver) -> PupilSummary:
    """The least that lets the new school find the pupil on its roll."""
    child = event.child
    return PupilSummary(
        forenames=child.forenames,
        surname=child.surname,
        date_of_birth=child.date_of_birth,
        upn=child.upn,
    )


def deletion_payload(
    school_id: str, event: Leaver, confirmed: bool | None = None, start: date | None = None
) -> DeletionReturnV2:
    """The reg 13(5) content of a leaver's return. `confirmed`: the named new school's answer
    (None: not checked); `start`: the start date it confirmed, when the event had none."""
    new_school = event.new_school
    if new_school is not None and start is not None and new_school.start_date is None:
        new_school = new_school.model_copy(update={"start_date": start})
    return DeletionReturnV2(
        school=school_id,
        child=event.child,
        ground=event.ground,
        deletion_date=event.deletion_date,
        parents=event.parents,
        destination_known=event.destination_known,
        future_address=event.future_address,
        future_address_from=event.future_address_from,
        new_school=new_school,
        destination_confirmed=confirmed if event.destination_known else None,
        safeguarding=event.safeguarding,
    )


class SchoolSender:
    """Builds, justifies and stages one school's messages."""

    def __init__(
        self, policy: SchoolPolicy, outbox: Outbox, agreements: AgreementBook, clock: Clock
    ) -> None:
        self._policy = policy
        self._outbox = outbox
        self._agreements = agreements
        self._clock = clock

    def send(
        self,
        session: Session,
        recipient: str,
        message_type: str,
        payload: WireModel,
        *,
        causation_id: UUID | None = None,
    ) -> Sealed:
        """Justify from the agreements (refused here, before sealing, if none permits the
        share) and stage."""
        sender = self._policy.school_id
        necessity = _NECESSITY[message_type]
        intent = ShareIntent(sender, recipient, message_type, payload, ROLE, necessity)
        justification = self._justify(intent)
        draft = Draft(recipient, message_type, payload, justification, causation_id=causation_id)
        return self._outbox.stage(session, draft)

    def _justify(self, intent: ShareIntent) -> Justification:
        """An independent school has no public task: where the flow lists Art 6(1)(ea) it
        cites that; a legal obligation (the statutory returns) stays as the flow says."""
        if self._policy.independent:
            with contextlib.suppress(AgreementRefusal):
                preferred = replace(intent, lawful_basis=LawfulBasis.RECOGNISED_LEGITIMATE_INTEREST)
                return justify(self._agreements, preferred, self._clock())
        return justify(self._agreements, intent, self._clock())

    def to_la(self, session: Session, message_type: str, payload: WireModel) -> Sealed:
        """A statutory return to the school's own LA."""
        return self.send(session, self._policy.la_id, message_type, payload)

    def new_pupil_return(self, session: Session, event: NewPupil) -> Sealed:
        """Reg 13(1)-(3): everything entered in the admission register."""
        payload = NewPupilReturnV1(
            school=self._policy.school_id,
            child=event.child,
            entry_date=event.entry_date,
            year_group=event.year_group,
            parents=event.parents,
            previous_school=event.previous_school,
        )
        return self.to_la(session, school.NEW_PUPIL_RETURN, payload)

    def deletion_return(self, session: Session, payload: DeletionReturnV2) -> Sealed:
        """Reg 13(4)-(6): the leaver's return."""
        return self.to_la(session, deletion_return.TYPE, payload)

    def non_arrival(self, session: Session, event: NonArrival) -> Sealed:
        """The pupil did not start on the agreed date."""
        payload = NonArrivalV1(
            school=self._policy.school_id,
            child=event.child,
            expected_start_date=event.expected_start_date,
            school_enquiries=event.school_enquiries,
            last_known_address=event.address,
        )
        return self.to_la(session, school.NON_ARRIVAL, payload)

    def attendance_return(self, session: Session, event: Absence) -> Sealed:
        """10 continuous school days of unauthorised absence."""
        payload = AttendanceReturnV1(
            school=self._policy.school_id,
            child=event.child,
            absence_start=event.absence_start,
            school_days_absent=event.school_days_absent,
            absence_codes=tuple(dict.fromkeys(event.absence_codes)),
            whereabouts_known=event.whereabouts_known,
        )
        return self.to_la(session, school.ATTENDANCE_RETURN, payload)

    def sickness_return(self, session: Session, event: Sickness) -> Sealed:
        """15 school days of expected illness absence (no diagnosis)."""
        payload = SicknessReturnV1(
            school=self._policy.school_id,
            child=event.child,
            illness_start=event.illness_start,
            expected_school_days=event.expected_school_days,
        )
        return self.to_la(session, school.SICKNESS_RETURN, payload)

    def destination_check(self, session: Session, event: Leaver) -> Sealed:
        """Ask the named new school whether the pupil is on its roll."""
        named = event.named_school
        assert named is not None  # the rules only check a named school
        new_school = event.new_school
        payload = DestinationCheckV1(
            from_school=self._policy.school_id,
            to_school=f"school:{named.laestab}",
            child=pupil_summary(event),
            expected_start_date=new_school.start_date if new_school else None,
        )
        return self.send(session, payload.to_school, school.DESTINATION_CHECK, payload)

    def destination_confirmation(
        self,
        session: Session,
        to_school: str,
        check_message_id: UUID,
        status: RegistrationStatus,
        start_date: date | None,
    ) -> Sealed:
        """Answer another school's destination check from this school's roll."""
        payload = DestinationConfirmationV1(
            check_message_id=check_message_id, status=status, start_date=start_date
        )
        return self.send(
            session,
            to_school,
            school.DESTINATION_CONFIRMATION,
            payload,
            causation_id=check_message_id,
        )
