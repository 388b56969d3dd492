"""Destination checks from other schools: the new school's side, answered from its own roll.

- On the roll (the UPN matches, or one pupil matches on first forename, surname and date of
  birth with no conflicting UPN): `registered`, with the entry date as the start date.
- Several candidates, or a demographic match whose UPN differs: `not_known`. A person must
  look; a guess could wrongly close the old school's question.
- Not on the roll: a pupil is entered on the register on the first day they attend, so a
  check whose expected start date is today or later stays open until the pupil is entered
  (then `registered`) or a couple of school days after that date (then `not_registered`).
  Otherwise `not_registered` at once.

An answer that cannot be sent (the asking school suspended or revoked, or no agreement in force
covers it: `AgreementRefusal` or `EnvelopeError` at sealing) is given up under a savepoint of
its own: the check is marked `unanswerable` with the reason code, and whatever else the
transaction does (the new pupil's return, the sweep's other answers and returns) still goes.
The asking school's own deadline then sends its return unconfirmed.
"""

from datetime import date
from uuid import UUID

import structlog
from sqlmodel import Session

from adapters.school import store
from adapters.school.protect import PupilKeys
from adapters.school.rules import check_answer_by
from adapters.school.services import SchoolServices
from adapters.school.store import CheckState
from adapters.school.tables import CheckRow, PupilRow
from broker.agreements import AgreementRefusal
from broker.envelope import Opened
from broker.errors import EnvelopeError
from schemas.messages.school import DestinationCheckV1, RegistrationStatus

log = structlog.get_logger(__name__)


def roll_answer(rows: list[PupilRow], keys: PupilKeys) -> tuple[RegistrationStatus, date | None]:
    """What the roll says about a pupil (see the module docstring)."""
    if keys.upn is not None:
        by_upn = [r for r in rows if r.upn_key == keys.upn]
        if by_upn:
            return RegistrationStatus.REGISTERED, max(r.entry_date for r in by_upn)
    by_person = [r for r in rows if r.person_key == keys.person]
    conflicting = [r for r in by_person if keys.upn and r.upn_key and r.upn_key != keys.upn]
    if len(by_person) == 1 and not conflicting:
        return RegistrationStatus.REGISTERED, by_person[0].entry_date
    if by_person:
        return RegistrationStatus.NOT_KNOWN, None
    return RegistrationStatus.NOT_REGISTERED, None


class Checks:
    """Answers the destination checks one school receives."""

    def __init__(self, services: SchoolServices) -> None:
        self._policy = services.policy
        self._sender = services.sender
        self._protector = services.protector
        self._clock = services.clock
        self._school = services.school_id

    def received(
        self, session: Session, opened: Opened, check: DestinationCheckV1, today: date
    ) -> None:
        """Answer now from the roll, or keep the check open while the pupil may still join."""
        check_id = str(opened.claims.jti)
        if check.to_school != self._school or check.from_school != opened.claims.iss:
            log.warning("school.check_refused", reason="parties_do_not_match")
            return
        if store.check_seen(session, check_id):
            return
        keys = self._protector.pupil_keys(check.child)
        status, start = roll_answer(list(store.on_roll(session, self._school, keys)), keys)
        row = CheckRow(
            school_id=self._school,
            from_school=check.from_school,
            check_message_id=check_id,
            upn_key=keys.upn,
            person_key=keys.person,
            state=CheckState.PENDING,
            received_at=self._clock(),
        )
        if status is RegistrationStatus.NOT_REGISTERED:
            row.answer_by = check_answer_by(self._policy, today, check.expected_start_date)
        session.add(row)
        session.flush()  # the answer below claims the row by a conditional UPDATE
        if row.answer_by is not None:
            log.info("school.check_open")
            return
        self._answer(session, row, status, start)

    def pupil_joined(self, session: Session, keys: PupilKeys, entry_date: date) -> int:
        """A new pupil was entered: answer the open checks that are about them. Returns how
        many answers were sent."""
        answered = 0
        for row in store.pending_checks(session, self._school, keys):
            if keys.upn and row.upn_key and row.upn_key != keys.upn:
                continue  # the same name and birthday, but another pupil
            answered += self._answer(session, row, RegistrationStatus.REGISTERED, entry_date)
        return answered

    def answer_lapsed(self, session: Session, today: date) -> int:
        """Open checks whose pupil did not join in time: not registered. Returns how many
        answers were sent."""
        lapsed = store.checks_lapsed(session, self._school, today)
        return sum(
            self._answer(session, row, RegistrationStatus.NOT_REGISTERED, None) for row in lapsed
        )

    def _answer(
        self, session: Session, row: CheckRow, status: RegistrationStatus, start: date | None
    ) -> bool:
        """Send one answer. False when the check was answered already (by another process),
        or the answer cannot be sent (the check is then `unanswerable`)."""
        if not store.claim_check(session, row):
            log.info("school.check_answered_already")
            return False
        try:
            with session.begin_nested():
                sealed = self._sender.destination_confirmation(
                    session, row.from_school, UUID(row.check_message_id), status, start
                )
        except (AgreementRefusal, EnvelopeError) as exc:
            row.state = CheckState.UNANSWERABLE
            row.status = status.value
            row.problem = exc.reason
            session.add(row)
            log.warning("school.check_unanswerable", reason=exc.reason)
            return False
        row.state = CheckState.ANSWERED
        row.status = status.value
        row.answer_message_id = str(sealed.claims.jti)
        row.answered_at = self._clock()
        session.add(row)
        log.info("school.check_answered", status=status.value)
        return True
