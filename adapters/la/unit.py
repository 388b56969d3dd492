"""One transaction's tools for the register: the session, the protector and the clock, with
the few row operations every part of the register shares (find a case, allocate a case ref,
record an identity with its blind indexes, append to the timeline).
"""

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from adapters.la.model import CaseState
from adapters.la.protect import Binding, Protector
from adapters.la.records import ACTOR_MAX, ACTOR_PATTERN, CaseOpening, Detail, EventKind
from adapters.la.store_errors import CaseNotFound, StoreError
from adapters.la.tables import (
    CaseChildRow,
    CaseCounterRow,
    CaseRow,
    ChildKeyRow,
    DuplicateRow,
    EnquiryRow,
    EventRow,
)
from broker.clock import Clock
from schemas.child import ChildIdentity

_ACTOR = re.compile(ACTOR_PATTERN)


def check_actor(actor: str) -> str:
    """Refuse an actor id that is not a short code (it is stored in clear on every entry)."""
    if not _ACTOR.match(actor) or len(actor) > ACTOR_MAX:
        raise ValueError("an actor is an id of up to 64 of A-Z a-z 0-9 _ . : @ -")
    return actor


def new_uid() -> str:
    """A random opaque row id (also the row part of every encryption binding)."""
    return uuid.uuid4().hex


def bind(table: str, column: str, row: str) -> Binding:
    """The binding of a protected column of a row."""
    return Binding(table=table, column=column, row=row)


def case_binding(case: CaseRow, column: str) -> Binding:
    """Binding for a protected column of the case row (bound to its case ref)."""
    return bind(CaseRow.__tablename__, column, case.case_ref)


def child_binding(uid: str) -> Binding:
    """Binding for a recorded identity."""
    return bind(CaseChildRow.__tablename__, "identity", uid)


def event_binding(uid: str, column: str) -> Binding:
    """Binding for an event's why or evidence."""
    return bind(EventRow.__tablename__, column, uid)


def enquiry_binding(uid: str) -> Binding:
    """Binding for an enquiry's evidence."""
    return bind(EnquiryRow.__tablename__, "evidence", uid)


def duplicate_binding(uid: str, column: str) -> Binding:
    """Binding for a possible duplicate's candidate, why or decision_why."""
    return bind(DuplicateRow.__tablename__, column, uid)


def ids(row: CaseRow | CaseChildRow) -> int:
    """The primary key of a flushed row (a row without one is a programming error)."""
    if row.id is None:
        raise StoreError(detail="row has not been flushed")
    return row.id


@dataclass(frozen=True)
class Unit:
    """The tools of one transaction (the caller commits, or the register does)."""

    session: Session
    protector: Protector
    clock: Clock
    la_code: str

    def case(self, case_ref: str) -> CaseRow:
        """The case row, or CaseNotFound."""
        row = self.session.exec(select(CaseRow).where(CaseRow.case_ref == case_ref)).first()
        if row is None:
            raise CaseNotFound(detail=f"no case {case_ref}")
        return row

    def case_by_id(self, case_id: int) -> CaseRow:
        """The case row by primary key (from a foreign key: it exists)."""
        row = self.session.get(CaseRow, case_id)
        if row is None:
            raise CaseNotFound(detail="no case with that id")
        return row

    def next_case_ref(self, at: datetime) -> str:
        """The next `CME-<LA>-<year>-<serial>` ref: from a counter, never from the child.

        One upsert-and-return statement, atomic on both databases: PostgreSQL locks the
        counter row until the transaction ends and SQLite locks the database for writing,
        so two desks never take the same serial.
        """
        scope = f"{self.la_code}-{at.year}"
        dialect = self.session.get_bind().dialect.name
        counter = CaseCounterRow.__table__.c  # type: ignore[attr-defined]
        bump = {"value": counter.value + 1}
        statement: postgresql.Insert | sqlite.Insert
        if dialect == "postgresql":
            statement = postgresql.insert(CaseCounterRow).on_conflict_do_update(
                index_elements=["scope"], set_=bump
            )
        elif dialect == "sqlite":
            statement = sqlite.insert(CaseCounterRow).on_conflict_do_update(
                index_elements=["scope"], set_=bump
            )
        else:  # pragma: no cover - the desk supports these two databases
            raise StoreError(detail=f"unsupported database {dialect}")
        upsert = statement.values(scope=scope, value=1).returning(counter.value)
        serial = self.session.exec(upsert).scalar_one()
        return f"CME-{self.la_code}-{at.year}-{serial:06d}"

    def new_case(self, opening: CaseOpening) -> CaseRow:
        """Insert a case row (state OPEN) and flush it."""
        now = self.clock()
        row = CaseRow(
            case_ref=self.next_case_ref(now),
            kind=opening.kind,
            trigger=opening.trigger,
            state=CaseState.OPEN,
            reason=opening.reason,
            risk_flags=[flag.value for flag in opening.risk_flags],
            priority=opening.priority,
            owner=opening.owner,
            opened_at=now,
            opened_by=opening.actor,
        )
        self.session.add(row)
        self.session.flush()
        return row

    def add_child(
        self, case: CaseRow, child: ChildIdentity, message_id: str | None
    ) -> CaseChildRow:
        """Record an identity on a case, encrypted, with its blind indexes."""
        uid = new_uid()
        row = CaseChildRow(
            uid=uid,
            case_id=ids(case),
            identity=self.protector.seal_model(child, child_binding(uid)),
            recorded_at=self.clock(),
            message_id=message_id,
        )
        self.session.add(row)
        self.session.flush()
        self.session.add_all(
            ChildKeyRow(child_id=ids(row), case_id=ids(case), kind=kind, digest=digest)
            for kind, digest in sorted(self.protector.index.for_child(child))
        )
        return row

    def children_of(self, case_ids: Iterable[int]) -> dict[int, list[ChildIdentity]]:
        """Decrypted identities of several cases, oldest first (one query)."""
        wanted = list(set(case_ids))
        found: dict[int, list[ChildIdentity]] = {case_id: [] for case_id in wanted}
        if not wanted:
            return found
        query = (
            select(CaseChildRow)
            .where(col(CaseChildRow.case_id).in_(wanted))
            .order_by(col(CaseChildRow.id))
        )
        for row in self.session.exec(query):
            found[row.case_id].append(self.open_child(row))
        return found

    def open_child(self, row: CaseChildRow) -> ChildIdentity:
        """Decrypt one recorded identity."""
        return self.protector.open_model(row.identity, child_binding(row.uid), ChildIdentity)

    def add_child_if_new(self, case: CaseRow, child: ChildIdentity, message_id: str | None) -> bool:
        """Record the identity unless the case already holds exactly it (True when added)."""
        if child in self.children_of([ids(case)])[ids(case)]:
            return False
        self.add_child(case, child, message_id)
        return True

    def event(
        self,
        case: CaseRow,
        kind: EventKind,
        actor: str,
        *,
        why: str | None = None,
        evidence: str | None = None,
        message_id: str | None = None,
        detail: Detail | None = None,
    ) -> None:
        """Append a timeline entry (free text encrypted, detail in clear: codes only)."""
        check_actor(actor)
        uid = new_uid()
        self.session.add(
            EventRow(
                uid=uid,
                case_id=ids(case),
                at=self.clock(),
                kind=kind,
                actor=actor,
                why=self.protector.seal_text(why, event_binding(uid, "why")),
                evidence=self.protector.seal_text(evidence, event_binding(uid, "evidence")),
                message_id=message_id,
                detail=dict(detail or {}),
            )
        )

    def duplicate_candidate(self, row: DuplicateRow) -> ChildIdentity:
        """Decrypt the child held by a possible duplicate."""
        token, binding = row.candidate, duplicate_binding(row.uid, "candidate")
        return self.protector.open_model(token, binding, ChildIdentity)

    def duplicate_opening(self, row: DuplicateRow) -> CaseOpening:
        """The opening held by a possible duplicate, its free text decrypted."""
        why = self.protector.open_text(row.why, duplicate_binding(row.uid, "why"))
        return CaseOpening.model_validate({**row.opening, "why": why})
