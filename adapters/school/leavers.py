"""A leaver's deletion, from the event to the final word: the old school's side.

- Top-year leavers at the end of the year: exempt, nothing sent (never under 9(1)(h)/(i)).
- A named new school (not this one): a `school.destination_check` goes to it at once, and the
  deletion return waits (`awaiting_destination`) for its `school.destination_confirmation`,
  at most until `confirm_by`. It then goes with `destination_confirmed` True (registered) or
  False (not registered, not known, or no answer by the deadline). False is how an
  unconfirmed destination is flagged to the LA: its desk treats a destination the new school
  did not confirm as unknown and opens a case.
- Reg 13(4) wants the return no later than the deletion: except under 9(1)(a) (whose ground
  is the registration elsewhere), `confirm_by` is at the latest the eve of the deletion date,
  so the sweep sends an unanswered return on the deletion date at the latest. A deletion
  dated today or earlier leaves no time to ask: no check goes, and the return goes at once
  flagged unconfirmed (False, reason `no_time_to_confirm`), so the LA checks the destination
  itself. Whether a return was late is worked out when it actually goes (`late`).
- Otherwise the return goes at once (`destination_confirmed` None: nothing to check).
- A waiting return that cannot be sent when its answer or its deadline comes (no agreement in
  force with the LA, or the LA not active: `AgreementRefusal`, `EnvelopeError`) is marked
  `return_unsent` with the reason code, under a savepoint of its own, and tried again by every
  sweep; the inbox message and the sweep's other work go on.
- The move out of `awaiting_destination` is a conditional UPDATE, so an answer and a sweep
  that race (in two processes) send the return once.
- 9(1)(h) and 9(1)(i): the return goes (it starts the LA's joint enquiries) and the deletion is
  `held_for_enquiries` until the LA's `cme.enquiries_complete`: `enquiries_exhausted` releases
  it (`may_delete`), `child_located` stops it (`must_not_delete`).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final
from uuid import uuid4

import structlog
from sqlmodel import Session

from adapters.school import store
from adapters.school.events import Leaver
from adapters.school.outbound import deletion_payload
from adapters.school.protect import PupilKeys
from adapters.school.rules import (
    EventResult,
    Outcome,
    confirm_by,
    holds_deletion,
    latest_wait,
    leaver_decision,
    needs_destination_check,
)
from adapters.school.services import SchoolServices
from adapters.school.store import DeletionState
from adapters.school.tables import DeletionRow, LaDecisionRow
from broker.agreements import AgreementRefusal
from broker.envelope import Opened
from broker.errors import BrokerError, EnvelopeError
from schemas.messages.cme import EnquiriesCompleteV1, EnquiriesResult
from schemas.messages.school import DestinationConfirmationV1, RegistrationStatus

log = structlog.get_logger(__name__)
_TABLE, _COLUMN = "school_deletion", "payload"
UNCHECKABLE: Final = "destination_not_checkable"
"""Reason of a leaver whose named school cannot be sent a check: the return goes unchecked."""
NO_TIME: Final = "no_time_to_confirm"
"""Reason of a leaver whose deletion is too near to wait for the new school: the return goes
at once, flagged unconfirmed."""
NO_ANSWER: Final = "no_answer"
"""`destination_status` of a check the new school did not answer by the deadline."""


@dataclass(frozen=True, slots=True)
class Destination:
    """What the return says of the named new school: its status, whether it confirmed the
    registration, and the start date it confirmed."""

    status: str
    confirmed: bool
    start: date | None = None


class Leavers:
    """Deletion returns, destination waits and held deletions of one school."""

    def __init__(self, services: SchoolServices) -> None:
        self._policy = services.policy
        self._sender = services.sender
        self._protector = services.protector
        self._clock = services.clock
        self._school = services.school_id

    def process(self, session: Session, event: Leaver, today: date) -> EventResult:
        """Apply the rules to one leaver and stage what they call for."""
        decision = leaver_decision(event, self._policy)
        keys = self._protector.pupil_keys(event.child)
        late = decision.due_on is not None and today > decision.due_on
        if not decision.required:
            store.mark_left(session, self._school, keys, event.deletion_date)
            return EventResult(event.kind, Outcome.EXEMPT, decision.reason)
        if needs_destination_check(event, self._policy):
            start = event.new_school.start_date if event.new_school else None
            deadline = confirm_by(self._policy, today, start, latest_wait(event))
            if deadline < today:
                # Reg 13(4): the return may not wait past the deletion. Unconfirmed, so the
                # LA's desk checks the destination itself.
                log.info("school.destination_no_time", reason=NO_TIME)
                return self._return_now(session, event, keys, today, NO_TIME, confirmed=False)
            try:
                check = self._sender.destination_check(session, event)
            except BrokerError as exc:
                # No agreement with the new school's area, or the school is not in the
                # directory: the statutory return must not wait for a check that cannot go.
                log.warning("school.destination_not_checkable", reason=exc.reason)
                return self._return_now(session, event, keys, today, UNCHECKABLE)
            row = self._track(session, event, keys, DeletionState.AWAITING_DESTINATION)
            row.check_message_id = str(check.claims.jti)
            row.check_to = check.claims.aud
            row.confirm_by = deadline
            return EventResult(
                event.kind,
                Outcome.AWAITING_DESTINATION,
                decision.reason,
                (check.claims.jti,),
                decision.due_on,
                late,
                row.uid,
            )
        return self._return_now(session, event, keys, today, decision.reason)

    def _return_now(
        self,
        session: Session,
        event: Leaver,
        keys: PupilKeys,
        today: date,
        reason: str,
        *,
        confirmed: bool | None = None,
    ) -> EventResult:
        """The return at once (`confirmed` None: not checked); the deletion held under
        9(1)(h)/(i), else final."""
        payload = deletion_payload(self._school, event, confirmed)
        sealed = self._sender.deletion_return(session, payload)
        uid = None
        if holds_deletion(event):
            row = self._track(session, event, keys, DeletionState.HELD_FOR_ENQUIRIES)
            row.return_message_id = str(sealed.claims.jti)
            row.destination_confirmed = payload.destination_confirmed
            row.late = today > event.deletion_date
            uid = row.uid
        else:
            store.mark_left(session, self._school, keys, event.deletion_date)
        due = event.deletion_date
        ids = (sealed.claims.jti,)
        return EventResult(event.kind, Outcome.SENT, reason, ids, due, today > due, uid)

    def _track(
        self, session: Session, event: Leaver, keys: PupilKeys, state: DeletionState
    ) -> DeletionRow:
        uid, now = uuid4().hex, self._clock()
        row = DeletionRow(
            uid=uid,
            school_id=self._school,
            state=state,
            ground=event.ground.value,
            upn_key=keys.upn,
            person_key=keys.person,
            deletion_date=event.deletion_date,
            payload=self._protector.seal(event.model_dump_json(), _TABLE, _COLUMN, uid),
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        return row

    def leaver_of(self, row: DeletionRow) -> Leaver:
        """The event a tracked deletion was opened from (decrypted)."""
        return Leaver.model_validate_json(
            self._protector.open(row.payload, _TABLE, _COLUMN, row.uid)
        )

    # -- the new school's answer, or its deadline ------------------------------------------

    def destination_answered(
        self, session: Session, opened: Opened, answer: DestinationConfirmationV1
    ) -> None:
        """File the new school's answer and send the waiting return."""
        row = store.deletion_by_check(session, self._school, str(answer.check_message_id))
        if row is None or row.state != DeletionState.AWAITING_DESTINATION:
            log.info("school.confirmation_not_awaited", answered=row is not None)
            return
        if opened.claims.iss != row.check_to:
            log.warning("school.confirmation_from_another_school")
            return
        registered = answer.status is RegistrationStatus.REGISTERED
        start = answer.start_date if registered else None
        outcome = Destination(answer.status.value, registered, start)
        today = self._clock().date()
        self._send_held_return(session, row, DeletionState.AWAITING_DESTINATION, outcome, today)

    def release_overdue(self, session: Session, today: date) -> list[str]:
        """Send every return whose new school did not answer by its deadline, flagged
        unconfirmed, and try again those that could not be sent before. Returns the uids of
        the tracked deletions whose return went."""
        released = []
        for row in store.destinations_overdue(session, self._school, today):
            log.info("school.destination_unconfirmed", reason=NO_ANSWER)
            outcome = Destination(NO_ANSWER, False)
            expected = DeletionState.AWAITING_DESTINATION
            if self._send_held_return(session, row, expected, outcome, today):
                released.append(row.uid)
        for row in store.returns_unsent(session, self._school):
            status = row.destination_status or NO_ANSWER
            outcome = Destination(status, bool(row.destination_confirmed), row.destination_start)
            expected = DeletionState.RETURN_UNSENT
            if self._send_held_return(session, row, expected, outcome, today):
                released.append(row.uid)
        return released

    def _send_held_return(
        self,
        session: Session,
        row: DeletionRow,
        expected: DeletionState,
        outcome: Destination,
        today: date,
    ) -> bool:
        """Send a tracked leaver's waiting return, if it is still in `expected` (claimed by a
        conditional UPDATE first: whoever loses a race sends nothing). False when another
        process sent it first, or it cannot be sent (`return_unsent`)."""
        event = self.leaver_of(row)
        held = holds_deletion(event)
        final = DeletionState.HELD_FOR_ENQUIRIES if held else DeletionState.RETURNED
        if not store.claim_deletion(session, row, expected, final, self._clock()):
            log.info("school.return_sent_already")
            return False
        row.destination_status = outcome.status
        row.destination_confirmed = outcome.confirmed
        row.destination_start = outcome.start
        payload = deletion_payload(self._school, event, outcome.confirmed, outcome.start)
        try:
            with session.begin_nested():
                sealed = self._sender.deletion_return(session, payload)
        except (AgreementRefusal, EnvelopeError) as exc:
            row.state = DeletionState.RETURN_UNSENT
            row.problem = exc.reason
            session.add(row)
            log.warning("school.deletion_return_unsent", reason=exc.reason)
            return False
        row.return_message_id = str(sealed.claims.jti)
        row.problem = None
        row.late = today > row.deletion_date  # reg 13(4): no later than the deletion
        session.add(row)
        if not held:
            keys = self._protector.pupil_keys(event.child)
            store.mark_left(session, self._school, keys, event.deletion_date)
        log.info("school.deletion_returned", status=outcome.status, late=row.late)
        return True

    # -- the LA's joint enquiries ----------------------------------------------------------

    def enquiries_complete(
        self, session: Session, opened: Opened, message: EnquiriesCompleteV1
    ) -> None:
        """Record the LA's word and release (or stop) the held deletion it is about."""
        claims = opened.claims
        if claims.iss != self._policy.la_id or message.school != self._school:
            log.warning("school.enquiries_complete_refused", reason="not_own_la_or_school")
            return
        keys = self._protector.pupil_keys(message.child)
        held = _best_match(store.held_deletions(session, self._school, keys), keys, message)
        exhausted = message.result is EnquiriesResult.ENQUIRIES_EXHAUSTED
        for row in held:
            row.state = DeletionState.MAY_DELETE if exhausted else DeletionState.MUST_NOT_DELETE
            row.case_ref = message.case_ref
            row.enquiries_result = message.result.value
            row.updated_at = self._clock()
            session.add(row)
            if exhausted:
                store.mark_left(session, self._school, keys, message.completed_on)
        if not held:
            log.warning("school.enquiries_complete_unmatched")
        ground = message.deletion_ground.value if message.deletion_ground else None
        store.record_decision(
            session,
            LaDecisionRow(
                school_id=self._school,
                message_id=str(claims.jti),
                sender=claims.iss,
                case_ref=message.case_ref,
                result=message.result.value,
                ground=ground,
                completed_on=message.completed_on,
                deletion_uid=held[0].uid if held else None,
                received_at=self._clock(),
            ),
        )
        log.info("school.enquiries_complete", result=message.result.value, matched=len(held))


def _best_match(
    rows: Sequence[DeletionRow], keys: PupilKeys, message: EnquiriesCompleteV1
) -> list[DeletionRow]:
    """The held deletions the LA's message is about: the UPN decides when both sides have
    one (a different UPN is another pupil); then the ground, when the LA names one."""
    found = [r for r in rows if keys.upn is None or r.upn_key in (None, keys.upn)]
    ground = message.deletion_ground
    if ground is not None and any(r.ground == ground.value for r in found):
        found = [r for r in found if r.ground == ground.value]
    return found
