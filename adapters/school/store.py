"""Reading and writing the adapter's tables inside the caller's transaction.

Every function takes the session the caller commits (an import row's, or the agency client's
inbox transaction), so a table change and the message it causes commit together.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ColumnElement, update
from sqlmodel import Session, and_, col, or_, select

from adapters.school.protect import PupilKeys
from adapters.school.tables import (
    CheckRow,
    DeletionRow,
    EventRow,
    ImportFileRow,
    LaDecisionRow,
    PupilRow,
)


class DeletionState(StrEnum):
    """Where a leaver's deletion stands."""

    AWAITING_DESTINATION = "awaiting_destination"
    """The return waits for the named new school's answer (or its deadline)."""
    HELD_FOR_ENQUIRIES = "held_for_enquiries"
    """Returned; reg 9(1)(h)/(i): the name stays until the LA's enquiries are complete."""
    RETURNED = "returned"
    """Returned; the deletion may go ahead."""
    RETURN_UNSENT = "return_unsent"
    """The waiting return could not be sent (no agreement in force with the LA, or the LA is
    not an active agency): `problem` says why, and every sweep tries it again."""
    MAY_DELETE = "may_delete"
    """The LA's enquiries are exhausted: the held deletion is released."""
    MUST_NOT_DELETE = "must_not_delete"
    """The LA located the child: the name must not be deleted on this ground."""


class CheckState(StrEnum):
    """A destination check this school received."""

    PENDING = "pending"
    ANSWERED = "answered"
    UNANSWERABLE = "unanswerable"
    """The answer could not be sent (the asking school is suspended or revoked, or no
    agreement covers the answer): `problem` says why. The asking school's own deadline sends
    its return unconfirmed."""


@dataclass(frozen=True, slots=True)
class EventKeys:
    """An event's digests: `key`, its unique idempotency key (the MIS's event id's, else the
    UPN's, else the person's); `person` and `upn`, the event keyed by the pupil's first
    forename, surname and date of birth, and by their UPN (None without one). `by_id`: the
    MIS gave its own event id, which alone decides."""

    key: str
    person: str
    upn: str | None
    by_id: bool = False


def event_seen(session: Session, school_id: str, keys: EventKeys) -> bool:
    """True when this event was processed already: the same idempotency key, or (without an
    MIS event id) the same UPN, or the same person with no conflicting UPN. So a cumulative
    export that adds a UPN later, or a CTF and a CSV row of the same leaver (one with a UPN,
    one without), make one return, while two pupils alike in name and birthday but with
    different UPNs are two."""
    seen = [col(EventRow.key) == keys.key]
    if not keys.by_id:
        person = col(EventRow.person_key) == keys.person
        if keys.upn is None:
            seen.append(person)
        else:
            seen.append(col(EventRow.upn_key) == keys.upn)
            same = or_(col(EventRow.upn_key).is_(None), col(EventRow.upn_key) == keys.upn)
            seen.append(and_(person, same))
    query = select(EventRow.id).where(EventRow.school_id == school_id, or_(*seen))
    return session.exec(query).first() is not None


def record_event(session: Session, row: EventRow) -> None:
    """Remember a processed event (its unique key refuses a second one at commit)."""
    session.add(row)


# -- the roll ------------------------------------------------------------------------------


def admit(session: Session, school_id: str, keys: PupilKeys, entry_date: date) -> None:
    """Put a pupil on the roll, unless they are on it already (a roll load after their new
    pupil event, say): one pupil twice would make every answer about them "not known"."""
    for row in on_roll(session, school_id, keys):
        if row.upn_key == keys.upn or (
            None in (keys.upn, row.upn_key) and row.person_key == keys.person
        ):
            return
    session.add(
        PupilRow(
            school_id=school_id, upn_key=keys.upn, person_key=keys.person, entry_date=entry_date
        )
    )


def on_roll(session: Session, school_id: str, keys: PupilKeys) -> Sequence[PupilRow]:
    """Pupils on the roll now who share the UPN digest or the demographic digest."""
    return session.exec(
        select(PupilRow).where(
            PupilRow.school_id == school_id,
            col(PupilRow.left_on).is_(None),
            _same_pupil(PupilRow, keys),
        )
    ).all()


def mark_left(session: Session, school_id: str, keys: PupilKeys, on: date) -> None:
    """Take a pupil off the roll (their deletion is final)."""
    for row in on_roll(session, school_id, keys):
        if keys.upn is None or row.upn_key in (None, keys.upn):
            row.left_on = on
            session.add(row)


def _same_pupil(
    model: type[PupilRow] | type[DeletionRow] | type[CheckRow], keys: PupilKeys
) -> ColumnElement[bool]:
    """Same UPN digest, or same demographic digest (the callers weigh a UPN conflict)."""
    person = col(model.person_key) == keys.person
    if keys.upn is None:
        return person
    return or_(col(model.upn_key) == keys.upn, person)


# -- deletions -----------------------------------------------------------------------------


def deletion_by_check(session: Session, school_id: str, check_id: str) -> DeletionRow | None:
    """The leaver a destination check was sent for."""
    query = select(DeletionRow).where(
        DeletionRow.school_id == school_id, DeletionRow.check_message_id == check_id
    )
    return session.exec(query).first()


def held_deletions(session: Session, school_id: str, keys: PupilKeys) -> Sequence[DeletionRow]:
    """Deletions of this pupil held for the LA's joint enquiries."""
    return session.exec(
        select(DeletionRow).where(
            DeletionRow.school_id == school_id,
            DeletionRow.state == DeletionState.HELD_FOR_ENQUIRIES,
            _same_pupil(DeletionRow, keys),
        )
    ).all()


def destinations_overdue(session: Session, school_id: str, today: date) -> Sequence[DeletionRow]:
    """Returns still waiting for a new school whose deadline has passed."""
    return session.exec(
        select(DeletionRow).where(
            DeletionRow.school_id == school_id,
            DeletionRow.state == DeletionState.AWAITING_DESTINATION,
            col(DeletionRow.confirm_by) < today,
        )
    ).all()


def returns_unsent(session: Session, school_id: str) -> Sequence[DeletionRow]:
    """Returns that could not be sent when they were due (to try again)."""
    return session.exec(
        select(DeletionRow).where(
            DeletionRow.school_id == school_id,
            DeletionRow.state == DeletionState.RETURN_UNSENT,
        )
    ).all()


def claim_deletion(
    session: Session, row: DeletionRow, expected: DeletionState, new: DeletionState, at: datetime
) -> bool:
    """Move a tracked deletion from `expected` to `new`, only if it is still in `expected`
    (a conditional UPDATE: of an answer and a sweep releasing the same return at once, in
    two processes, exactly one wins; the loser's UPDATE waits for the winner's row lock on
    PostgreSQL, or its write is refused on SQLite). False: someone else moved it first."""
    claimed = session.exec(
        update(DeletionRow)
        .where(col(DeletionRow.id) == row.id, col(DeletionRow.state) == expected.value)
        .values(state=new.value, updated_at=at)
    )
    return claimed.rowcount == 1


def deletions(
    session: Session, school_id: str, states: Sequence[DeletionState] = ()
) -> Sequence[DeletionRow]:
    """The school's tracked deletions, oldest first (optionally only in `states`)."""
    query = select(DeletionRow).where(DeletionRow.school_id == school_id)
    if states:
        query = query.where(col(DeletionRow.state).in_([s.value for s in states]))
    return session.exec(query.order_by(col(DeletionRow.id))).all()


# -- checks received -----------------------------------------------------------------------


def pending_checks(session: Session, school_id: str, keys: PupilKeys) -> Sequence[CheckRow]:
    """Open destination checks that may be about this pupil."""
    return session.exec(
        select(CheckRow).where(
            CheckRow.school_id == school_id,
            CheckRow.state == CheckState.PENDING,
            _same_pupil(CheckRow, keys),
        )
    ).all()


def checks_lapsed(session: Session, school_id: str, today: date) -> Sequence[CheckRow]:
    """Open checks whose pupil did not join by the answer-by day."""
    return session.exec(
        select(CheckRow).where(
            CheckRow.school_id == school_id,
            CheckRow.state == CheckState.PENDING,
            col(CheckRow.answer_by) < today,
        )
    ).all()


def claim_check(session: Session, row: CheckRow) -> bool:
    """Mark an open check answered, only if it is still open (a conditional UPDATE, as
    `claim_deletion`): a pupil's entry and the sweep never answer the same check twice.
    False: it was answered (or given up) already."""
    claimed = session.exec(
        update(CheckRow)
        .where(col(CheckRow.id) == row.id, col(CheckRow.state) == CheckState.PENDING.value)
        .values(state=CheckState.ANSWERED.value)
    )
    return claimed.rowcount == 1


def check_seen(session: Session, check_id: str) -> bool:
    """True when this check was recorded already."""
    query = select(CheckRow.id).where(CheckRow.check_message_id == check_id)
    return session.exec(query).first() is not None


# -- the LA's decisions and imported files -------------------------------------------------


def record_decision(session: Session, row: LaDecisionRow) -> None:
    """Keep the LA's `cme.enquiries_complete`."""
    session.add(row)


def file_seen(session: Session, school_id: str, sha256: str) -> bool:
    """True when a file with this content was imported for the school."""
    query = select(ImportFileRow.id).where(
        ImportFileRow.school_id == school_id, ImportFileRow.sha256 == sha256
    )
    return session.exec(query).first() is not None


def record_file(
    session: Session, school_id: str, sha256: str, size: int, counts: tuple[int, int], at: datetime
) -> None:
    """Remember an imported file (rows read, rows refused)."""
    rows, problems = counts
    session.add(
        ImportFileRow(
            school_id=school_id,
            sha256=sha256,
            size=size,
            rows=rows,
            problems=problems,
            imported_at=at,
        )
    )
