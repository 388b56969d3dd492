"""The school adapter: admission-register events in, statutory returns out, and the messages
other parties send the school (the Python call API; the CSV, CTF and watch inputs call it).

`submit` applies SI 2024/208 to one event in a transaction of its own: it records the event
under its idempotency key and stages what the rules call for, together, so an event is
processed once however often it is submitted. `handle` is the agency client's handler: it
files `cme.enquiries_complete`, answers `school.destination_check` and completes waiting
returns on `school.destination_confirmation`, inside the inbox transaction. `sweep` sends the
returns whose new school did not answer in time and answers lapsed checks.

A check's answer or a waiting return that cannot be sent (the other party suspended or
revoked, no agreement in force) is marked under a savepoint of its own and never blocks the
rest of its transaction: a new pupil's return still goes, the sweep's other work still goes.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import structlog
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from adapters.school import store
from adapters.school.checks import Checks
from adapters.school.events import (
    EVENT,
    Absence,
    Leaver,
    NewPupil,
    NonArrival,
    OnRoll,
    SchoolEvent,
    Sickness,
)
from adapters.school.leavers import Leavers
from adapters.school.rules import (
    EventResult,
    Outcome,
    ReturnDecision,
    attendance_decision,
    new_pupil_decision,
    non_arrival_decision,
    sickness_decision,
)
from adapters.school.services import SchoolServices
from adapters.school.store import DeletionState, EventKeys
from adapters.school.tables import DeletionRow, EventRow
from broker.envelope import Opened, Sealed
from schemas.child import PupilSummary
from schemas.messages.cme import CaseStatusV1, EnquiriesCompleteV1
from schemas.messages.school import DestinationCheckV1, DestinationConfirmationV1

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class SweepReport:
    """What a sweep did: returns sent (unconfirmed after their deadline, or sent again after
    they could not be; tracked deletion uids), and checks answered `not_registered` after
    theirs."""

    returns_released: tuple[str, ...]
    checks_answered: int


@dataclass(frozen=True, slots=True)
class DeletionView:
    """A tracked deletion for the school's staff: who (decrypted), where it stands, why."""

    deletion_id: str
    state: DeletionState
    ground: str
    deletion_date: date
    pupil: PupilSummary
    confirm_by: date | None
    destination_status: str | None
    destination_confirmed: bool | None
    case_ref: str | None
    late: bool | None = None
    """The return went after the deletion date (None: not sent yet)."""
    problem: str | None = None
    """Why the return could not be sent (`return_unsent`), a reason code."""


class SchoolAdapter:
    """One school's side of the broker."""

    def __init__(self, engine: Engine, services: SchoolServices) -> None:
        self.policy = services.policy
        self._engine = engine
        self._sender = services.sender
        self._protector = services.protector
        self._clock = services.clock
        self.leavers = Leavers(services)
        self.checks = Checks(services)

    @property
    def school_id(self) -> str:
        """`school:LAESTAB`."""
        return self.policy.school_id

    def today(self) -> date:
        """The school's day (its clock's UTC date)."""
        return self._clock().date()

    # -- events in ---------------------------------------------------------------------------

    def event_key(self, event: SchoolEvent, event_id: str | None = None) -> str:
        """The idempotency key of an event (see `event_keys`)."""
        return self.event_keys(event, event_id).key

    def event_keys(self, event: SchoolEvent, event_id: str | None = None) -> EventKeys:
        """An event's digests: keyed by the MIS's own event id when it has one, else by the
        pupil (UPN, or names and date of birth) with what makes the event itself distinct;
        and always by the pupil's names and date of birth, and by the UPN when there is one,
        so the same event is recognised whichever of the two a later export or a CTF gives.
        Keyed digests: they identify an event without holding the pupil's identity."""
        child, facts = event.child, _facts(event)
        person_id = self._protector.pupil_keys(child).person
        person = self._protector.digest("event", self.school_id, event.kind, person_id, *facts)
        upn = None
        if child.upn:
            upn_id = f"upn:{child.upn}"
            upn = self._protector.digest("event", self.school_id, event.kind, upn_id, *facts)
        if event_id:
            key = self._protector.digest("event-id", self.school_id, event.kind, event_id)
            return EventKeys(key, person, upn, by_id=True)
        return EventKeys(upn or person, person, upn)

    def submit(self, event: SchoolEvent, *, event_id: str | None = None) -> EventResult:
        """Apply the rules to one event and stage its return (one transaction). An event seen
        before (same key) changes nothing and is reported `duplicate`."""
        keys = self.event_keys(event, event_id)
        duplicate = EventResult(event.kind, Outcome.DUPLICATE, "already_processed")
        try:
            with Session(self._engine) as session:
                if store.event_seen(session, self.school_id, keys):
                    return duplicate
                result = self._apply(session, event)
                # Below a threshold nothing changed: a later export of the same spell, past
                # the threshold, must still send its return.
                if result.outcome is not Outcome.NOT_REQUIRED:
                    store.record_event(session, self._event_row(keys, result))
                session.commit()
        except IntegrityError:  # the same event submitted concurrently: the other one won
            return duplicate
        log.info("school.event", kind=result.kind, outcome=result.outcome, reason=result.reason)
        return result

    def submit_data(self, data: dict[str, object], *, event_id: str | None = None) -> EventResult:
        """`submit` for a plain mapping (`{"kind": "deletion", ...}`), validated first."""
        return self.submit(EVENT.validate_python(data), event_id=event_id)

    def _event_row(self, keys: EventKeys, result: EventResult) -> EventRow:
        return EventRow(
            school_id=self.school_id,
            key=keys.key,
            person_key=keys.person,
            upn_key=keys.upn,
            kind=result.kind,
            outcome=result.outcome,
            reason=result.reason,
            message_id=str(result.message_ids[0]) if result.message_ids else None,
            due_on=result.due_on,
            late=result.late,
            recorded_at=self._clock(),
        )

    def _apply(self, session: Session, event: SchoolEvent) -> EventResult:
        today = self.today()
        if isinstance(event, Leaver):
            return self.leavers.process(session, event, today)
        if isinstance(event, NewPupil | OnRoll):
            keys = self._protector.pupil_keys(event.child)
            store.admit(session, self.school_id, keys, event.entry_date)
            self.checks.pupil_joined(session, keys, event.entry_date)
            if isinstance(event, OnRoll):
                return EventResult(event.kind, Outcome.RECORDED, "roll_updated")
            decision = new_pupil_decision(event, self.policy)
            return self._maybe_send(session, event, decision, today)
        if isinstance(event, NonArrival):
            return self._maybe_send(session, event, non_arrival_decision(event), today)
        if isinstance(event, Absence):
            return self._maybe_send(session, event, attendance_decision(event), today)
        return self._maybe_send(session, event, sickness_decision(event), today)

    def _maybe_send(
        self,
        session: Session,
        event: NewPupil | NonArrival | Absence | Sickness,
        decision: ReturnDecision,
        today: date,
    ) -> EventResult:
        if not decision.required:
            outcome = Outcome.EXEMPT if decision.exempt else Outcome.NOT_REQUIRED
            return EventResult(event.kind, outcome, decision.reason)
        sealed = self._send(session, event)
        late = decision.due_on is not None and today > decision.due_on
        ids = (sealed.claims.jti,)
        return EventResult(event.kind, Outcome.SENT, decision.reason, ids, decision.due_on, late)

    def _send(self, session: Session, event: NewPupil | NonArrival | Absence | Sickness) -> Sealed:
        if isinstance(event, NewPupil):
            return self._sender.new_pupil_return(session, event)
        if isinstance(event, NonArrival):
            return self._sender.non_arrival(session, event)
        if isinstance(event, Absence):
            return self._sender.attendance_return(session, event)
        return self._sender.sickness_return(session, event)

    # -- messages in -------------------------------------------------------------------------

    def handle(self, session: Session, opened: Opened) -> None:
        """The agency client's handler: file one accepted message (inside its transaction)."""
        payload = opened.payload
        if isinstance(payload, EnquiriesCompleteV1):
            self.leavers.enquiries_complete(session, opened, payload)
        elif isinstance(payload, DestinationCheckV1):
            self.checks.received(session, opened, payload, self.today())
        elif isinstance(payload, DestinationConfirmationV1):
            self.leavers.destination_answered(session, opened, payload)
        elif isinstance(payload, CaseStatusV1):
            log.info("school.case_status", status=payload.status.value)
        else:
            log.info("school.not_filed", message_type=opened.claims.cme_type)

    # -- time passing ------------------------------------------------------------------------

    def sweep(self, today: date | None = None) -> SweepReport:
        """Send returns whose new school did not answer by the deadline (unconfirmed), try
        again those that could not be sent, and answer checks whose pupil did not join in
        time (one transaction; each message under a savepoint of its own, so one that cannot
        be sent is marked and never holds up the others)."""
        day = today or self.today()
        with Session(self._engine) as session:
            released = self.leavers.release_overdue(session, day)
            answered = self.checks.answer_lapsed(session, day)
            session.commit()
        return SweepReport(tuple(released), answered)

    def deletions(self, states: Sequence[DeletionState] = ()) -> list[DeletionView]:
        """The tracked deletions, oldest first, with the pupil decrypted for the school's
        staff (who must act on them in the MIS)."""
        with Session(self._engine) as session:
            rows = store.deletions(session, self.school_id, states)
            return [self._view(row) for row in rows]

    def _view(self, row: DeletionRow) -> DeletionView:
        child = self.leavers.leaver_of(row).child
        return DeletionView(
            deletion_id=row.uid,
            state=DeletionState(row.state),
            ground=row.ground,
            deletion_date=row.deletion_date,
            pupil=PupilSummary(
                forenames=child.forenames,
                surname=child.surname,
                date_of_birth=child.date_of_birth,
                upn=child.upn,
            ),
            confirm_by=row.confirm_by,
            destination_status=row.destination_status,
            destination_confirmed=row.destination_confirmed,
            case_ref=row.case_ref,
            late=row.late,
            problem=row.problem,
        )


def _facts(event: SchoolEvent) -> tuple[str, ...]:
    """What distinguishes one event of a pupil from another of the same kind."""
    if isinstance(event, NewPupil | OnRoll):
        return (event.entry_date.isoformat(),)
    if isinstance(event, Leaver):
        return (event.ground.value, event.deletion_date.isoformat())
    if isinstance(event, NonArrival):
        return (event.expected_start_date.isoformat(),)
    if isinstance(event, Absence):
        # One return per spell: a longer count of the same spell is not a new event.
        return (event.absence_start.isoformat(),)
    return (event.illness_start.isoformat(),)
