"""Matching an incoming child against the register, and the possible-duplicate queue.

An uncertain match is never merged silently: the child is held in the queue (encrypted) with
what its case would be opened with, and a timeline entry on the existing case tells its
worker. A person then merges it (the identity joins the existing case) or declares it
distinct (a case opens for it).
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, select

from adapters.la.matching import MatchPolicy, classify, score
from adapters.la.model import CaseState, MatchKind
from adapters.la.protect import IDENTIFIER_KINDS
from adapters.la.records import CaseOpening, DuplicateState, EventKind, IntakeResult, Match
from adapters.la.store_errors import AlreadyDecided, DuplicateNotFound
from adapters.la.tables import CaseChildRow, CaseRow, ChildKeyRow, DuplicateRow
from adapters.la.unit import Unit, duplicate_binding, ids, new_uid
from schemas.child import ChildIdentity

MAX_CANDIDATES = 200
"""Identities decrypted per demographic search: a demographic key is name + birth date, so
even a common name rarely gives more than a handful."""


@dataclass(frozen=True)
class _Candidate:
    case_ref: str
    is_open: bool
    opened_at: datetime
    confidence: float
    kind: MatchKind

    def rank(self) -> tuple[float, bool, datetime]:
        """Best score first; among equals an open case, then the newest."""
        return (self.confidence, self.is_open, self.opened_at)


def find_match(unit: Unit, child: ChildIdentity, policy: MatchPolicy) -> Match:
    """Identifier match first (certain), then the best demographic candidate."""
    keys = unit.protector.index.for_child(child)
    by_identifier = [digest for kind, digest in keys if kind in IDENTIFIER_KINDS]
    if by_identifier:
        holders = select(ChildKeyRow.case_id).where(col(ChildKeyRow.digest).in_(by_identifier))
        cases = list(unit.session.exec(select(CaseRow).where(col(CaseRow.id).in_(holders))))
        if cases:
            best = max(cases, key=lambda c: (c.state != CaseState.CLOSED, c.opened_at, c.id))
            return Match(MatchKind.IDENTIFIER, best.case_ref, 1.0)
    demographic = [digest for kind, digest in keys if kind not in IDENTIFIER_KINDS]
    candidates = _demographic_candidates(unit, child, demographic, policy)
    if not candidates:
        return Match(MatchKind.NONE, None, 0.0)
    best_candidate = max(candidates, key=_Candidate.rank)
    if best_candidate.kind is MatchKind.NONE:
        return Match(MatchKind.NONE, None, best_candidate.confidence)
    return Match(best_candidate.kind, best_candidate.case_ref, best_candidate.confidence)


def _demographic_candidates(
    unit: Unit, child: ChildIdentity, digests: list[str], policy: MatchPolicy
) -> list[_Candidate]:
    if not digests:
        return []
    holders = select(ChildKeyRow.child_id).where(col(ChildKeyRow.digest).in_(digests))
    query = (
        select(CaseChildRow, CaseRow)
        .join(CaseRow, col(CaseRow.id) == col(CaseChildRow.case_id))
        .where(col(CaseChildRow.id).in_(holders))
        .order_by(col(CaseRow.opened_at).desc())
        .limit(MAX_CANDIDATES)
    )
    found: list[_Candidate] = []
    for child_row, case in unit.session.exec(query):
        result = score(child, unit.open_child(child_row))
        found.append(
            _Candidate(
                case_ref=case.case_ref,
                is_open=case.state != CaseState.CLOSED,
                opened_at=case.opened_at,
                confidence=result.value,
                kind=classify(result, policy),
            )
        )
    # A gated pair (a sibling, another birth date) must not outrank a usable match, even
    # with a higher score; with none usable, the best score is still reported.
    usable = [c for c in found if c.kind is not MatchKind.NONE]
    return usable or found


def intake(
    unit: Unit, child: ChildIdentity, opening: CaseOpening, policy: MatchPolicy
) -> IntakeResult:
    """Match, then attach to the case, queue a possible duplicate, or open a new case."""
    match = find_match(unit, child, policy)
    if match.kind is MatchKind.NONE or match.case_ref is None:
        case = open_case(unit, child, opening)
        return IntakeResult(
            match_kind=MatchKind.NONE,
            confidence=match.confidence,
            case_ref=case.case_ref,
            case_state=CaseState.OPEN,
            opened=True,
        )
    existing = unit.case(match.case_ref)
    if match.kind is MatchKind.POSSIBLE:
        duplicate_id = _queue(unit, existing, child, opening, match.confidence)
        return IntakeResult(
            match_kind=match.kind,
            confidence=match.confidence,
            case_ref=None,
            opened=False,
            duplicate_id=duplicate_id,
        )
    added = unit.add_child_if_new(existing, child, opening.message_id)
    unit.event(
        existing,
        EventKind.MATCHED,
        opening.actor,
        why=opening.why,
        message_id=opening.message_id,
        detail={
            "match_kind": match.kind.value,
            "confidence": match.confidence,
            "trigger": opening.trigger.value,
            "identity_added": added,
        },
    )
    return IntakeResult(
        match_kind=match.kind,
        confidence=match.confidence,
        case_ref=existing.case_ref,
        case_state=CaseState(existing.state),
        opened=False,
    )


def open_case(unit: Unit, child: ChildIdentity, opening: CaseOpening) -> CaseRow:
    """Insert the case, its child and the OPENED entry."""
    case = unit.new_case(opening)
    unit.add_child(case, child, opening.message_id)
    unit.event(
        case,
        EventKind.OPENED,
        opening.actor,
        why=opening.why,
        message_id=opening.message_id,
        detail={
            "kind": opening.kind.value,
            "trigger": opening.trigger.value,
            "reason": opening.reason.value,
            "priority": opening.priority.value,
        },
    )
    return case


def _queue(
    unit: Unit, existing: CaseRow, child: ChildIdentity, opening: CaseOpening, confidence: float
) -> str:
    uid = new_uid()
    unit.session.add(
        DuplicateRow(
            uid=uid,
            existing_case_id=ids(existing),
            candidate=unit.protector.seal_model(child, duplicate_binding(uid, "candidate")),
            # Codes only in clear; the free text goes into its own encrypted column.
            opening=opening.model_dump(mode="json", exclude={"why"}),
            why=unit.protector.seal_text(opening.why, duplicate_binding(uid, "why")),
            confidence=confidence,
            state=DuplicateState.PENDING,
            created_at=unit.clock(),
        )
    )
    unit.event(
        existing,
        EventKind.POSSIBLE_DUPLICATE,
        opening.actor,
        message_id=opening.message_id,
        detail={"duplicate_id": uid, "confidence": confidence, "trigger": opening.trigger.value},
    )
    return uid


def decide(unit: Unit, duplicate_id: str, decision: DuplicateState, actor: str, why: str) -> str:
    """Merge or declare distinct (once only); returns the case the child is now on."""
    if decision is DuplicateState.PENDING:
        raise ValueError("a decision is merged or distinct")
    row = unit.session.exec(select(DuplicateRow).where(DuplicateRow.uid == duplicate_id)).first()
    if row is None:
        raise DuplicateNotFound(detail=f"no possible duplicate {duplicate_id}")
    # Conditional update: of two people deciding at once, exactly one wins.
    claimed = unit.session.exec(
        update(DuplicateRow)
        .where(col(DuplicateRow.id) == row.id, col(DuplicateRow.state) == DuplicateState.PENDING)
        .values(
            state=decision,
            decided_by=actor,
            decided_at=unit.clock(),
            decision_why=unit.protector.seal_text(why, duplicate_binding(row.uid, "decision_why")),
        )
    )
    if claimed.rowcount != 1:
        raise AlreadyDecided(detail=f"possible duplicate {duplicate_id} was already decided")
    child = unit.duplicate_candidate(row)
    opening = unit.duplicate_opening(row)
    existing = unit.case_by_id(row.existing_case_id)
    if decision is DuplicateState.MERGED:
        added = unit.add_child_if_new(existing, child, opening.message_id)
        unit.event(
            existing,
            EventKind.DUPLICATE_MERGED,
            actor,
            why=why,
            message_id=opening.message_id,
            detail={"duplicate_id": row.uid, "identity_added": added},
        )
        resulting = existing
    else:
        resulting = open_case(unit, child, opening)
        for case, other in ((existing, resulting), (resulting, existing)):
            unit.event(
                case,
                EventKind.DUPLICATE_DISTINCT,
                actor,
                why=why,
                detail={"duplicate_id": row.uid, "other_case": other.case_ref},
            )
    unit.session.exec(
        update(DuplicateRow)
        .where(col(DuplicateRow.id) == row.id)
        .values(resulting_case_id=ids(resulting))
    )
    return resulting.case_ref
