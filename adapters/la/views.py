"""The register's read side: the tracking list, one case in full, the duplicate queue.

Each read is a fixed number of queries whatever the number of rows (no N+1): the list counts
enquiries in one grouped subquery; a case loads its children, timeline, enquiries and SAO
steps in one query each.
"""

from datetime import date

from sqlalchemy import ColumnElement, Integer, and_, case, func, or_
from sqlmodel import col, select

from adapters.la.model import CaseState, EnquiryState, Priority
from adapters.la.records import (
    CaseDetail,
    CaseFilter,
    CaseSummary,
    DuplicateState,
    DuplicateView,
    EnquiryView,
    SaoStepView,
    TimelineEntry,
)
from adapters.la.tables import CaseRow, DuplicateRow, EnquiryRow, EventRow, SaoStepRow
from adapters.la.unit import (
    Unit,
    case_binding,
    duplicate_binding,
    enquiry_binding,
    event_binding,
    ids,
)
from broker.directory.tables import as_utc

_PRIORITY_ORDER = case(
    (col(CaseRow.priority) == Priority.HIGH, 0),
    (col(CaseRow.priority) == Priority.MEDIUM, 1),
    else_=2,
)


def _overdue(on: date) -> ColumnElement[bool]:
    return or_(
        col(EnquiryRow.state) == EnquiryState.OVERDUE,
        and_(col(EnquiryRow.state) == EnquiryState.SENT, col(EnquiryRow.respond_by) < on),
    )


def list_cases(unit: Unit, wanted: CaseFilter) -> list[CaseSummary]:
    """The tracking list under a filter: urgent first, then oldest first."""
    on = wanted.overdue_on or unit.clock().date()
    waiting = col(EnquiryRow.state).in_([EnquiryState.PLANNED, EnquiryState.SENT])
    counts = (
        select(
            col(EnquiryRow.case_id).label("case_id"),
            func.sum(case((waiting, 1), else_=0), type_=Integer).label("waiting"),
            func.sum(case((_overdue(on), 1), else_=0), type_=Integer).label("overdue"),
        )
        .group_by(col(EnquiryRow.case_id))
        .subquery()
    )
    query = select(CaseRow, counts.c.waiting, counts.c.overdue).outerjoin(
        counts, counts.c.case_id == col(CaseRow.id)
    )
    if wanted.states:
        query = query.where(col(CaseRow.state).in_(wanted.states))
    elif not wanted.include_closed:
        query = query.where(col(CaseRow.state) != CaseState.CLOSED)
    if wanted.priority is not None:
        query = query.where(col(CaseRow.priority) == wanted.priority)
    if wanted.owner is not None:
        query = query.where(col(CaseRow.owner) == wanted.owner)
    if wanted.overdue_on is not None:
        query = query.where(counts.c.overdue > 0)
    query = (
        query.order_by(_PRIORITY_ORDER, col(CaseRow.opened_at), col(CaseRow.id))
        .limit(wanted.limit)
        .offset(wanted.offset)
    )
    return [
        summary(row, waiting or 0, overdue or 0)
        for row, waiting, overdue in unit.session.exec(query)
    ]


def summary(row: CaseRow, waiting: int, overdue: int) -> CaseSummary:
    """A case row as a tracking-list line."""
    return CaseSummary.model_validate(
        {
            "case_ref": row.case_ref,
            "kind": row.kind,
            "trigger": row.trigger,
            "state": row.state,
            "reason": row.reason,
            "risk_flags": tuple(row.risk_flags),
            "priority": row.priority,
            "owner": row.owner,
            "opened_at": as_utc(row.opened_at),
            "closed_at": as_utc(row.closed_at) if row.closed_at else None,
            "closure_outcome": row.closure_outcome,
            "open_enquiries": waiting,
            "overdue_enquiries": overdue,
        }
    )


def show_case(unit: Unit, case_ref: str) -> CaseDetail:
    """One case in full, decrypted for the person viewing it."""
    row = unit.case(case_ref)
    case_id = ids(row)
    enquiries = enquiry_views(unit, col(EnquiryRow.case_id) == case_id)
    on = unit.clock().date()
    waiting = sum(e.state in (EnquiryState.PLANNED, EnquiryState.SENT) for e in enquiries)
    overdue = sum(
        e.state is EnquiryState.OVERDUE
        or (e.state is EnquiryState.SENT and e.respond_by is not None and e.respond_by < on)
        for e in enquiries
    )
    return CaseDetail(
        summary=summary(row, waiting, overdue),
        children=tuple(unit.children_of([case_id])[case_id]),
        closure_evidence=unit.protector.open_text(
            row.closure_evidence, case_binding(row, "closure_evidence")
        ),
        timeline=tuple(_timeline(unit, case_id)),
        enquiries=tuple(enquiries),
        sao_steps=tuple(_sao_steps(unit, case_id)),
    )


def _timeline(unit: Unit, case_id: int) -> list[TimelineEntry]:
    query = (
        select(EventRow)
        .where(EventRow.case_id == case_id)
        .order_by(col(EventRow.at), col(EventRow.id))
    )
    return [
        TimelineEntry.model_validate(
            {
                "at": as_utc(event.at),
                "kind": event.kind,
                "actor": event.actor,
                "why": unit.protector.open_text(event.why, event_binding(event.uid, "why")),
                "evidence": unit.protector.open_text(
                    event.evidence, event_binding(event.uid, "evidence")
                ),
                "message_id": event.message_id,
                "detail": event.detail,
            }
        )
        for event in unit.session.exec(query)
    ]


def _sao_steps(unit: Unit, case_id: int) -> list[SaoStepView]:
    query = select(SaoStepRow).where(SaoStepRow.case_id == case_id).order_by(col(SaoStepRow.id))
    return [
        SaoStepView.model_validate(
            {
                "step": step.step,
                "served_on": step.served_on,
                "deadline": step.deadline,
                "recorded_at": as_utc(step.recorded_at),
                "recorded_by": step.recorded_by,
            }
        )
        for step in unit.session.exec(query)
    ]


def enquiry_views(unit: Unit, *conditions: ColumnElement[bool]) -> list[EnquiryView]:
    """Enquiries meeting the conditions with their case refs, oldest first (one query)."""
    query = (
        select(EnquiryRow, CaseRow.case_ref)
        .join(CaseRow, col(CaseRow.id) == col(EnquiryRow.case_id))
        .where(*conditions)
        .order_by(col(EnquiryRow.id))
    )
    return [_enquiry_view(unit, row, case_ref) for row, case_ref in unit.session.exec(query)]


def _enquiry_view(unit: Unit, row: EnquiryRow, case_ref: str) -> EnquiryView:
    return EnquiryView.model_validate(
        {
            "enquiry_id": row.uid,
            "case_ref": case_ref,
            "target": row.target,
            "agency_id": row.agency_id,
            "message_id": row.message_id,
            "state": row.state,
            "created_at": as_utc(row.created_at),
            "sent_at": as_utc(row.sent_at) if row.sent_at else None,
            "respond_by": row.respond_by,
            "answered_at": as_utc(row.answered_at) if row.answered_at else None,
            "outcome": row.outcome,
            "evidence": unit.protector.open_text(row.evidence, enquiry_binding(row.uid)),
        }
    )


def overdue_enquiries(unit: Unit, on: date) -> list[EnquiryView]:
    """Enquiries sent and unanswered past their respond-by date, or already marked overdue."""
    return enquiry_views(unit, _overdue(on))


def list_duplicates(unit: Unit, state: DuplicateState | None) -> list[DuplicateView]:
    """The possible-duplicate queue (oldest first), candidates decrypted for the decider."""
    existing = CaseRow.__table__.alias("existing")  # type: ignore[attr-defined]
    resulting = CaseRow.__table__.alias("resulting")  # type: ignore[attr-defined]
    query = (
        select(DuplicateRow, existing.c.case_ref, resulting.c.case_ref)
        .join(existing, existing.c.id == col(DuplicateRow.existing_case_id))
        .outerjoin(resulting, resulting.c.id == col(DuplicateRow.resulting_case_id))
        .order_by(col(DuplicateRow.id))
    )
    if state is not None:
        query = query.where(col(DuplicateRow.state) == state)
    views = []
    for row, existing_ref, resulting_ref in unit.session.exec(query):
        binding = duplicate_binding(row.uid, "decision_why")
        views.append(
            DuplicateView.model_validate(
                {
                    "duplicate_id": row.uid,
                    "existing_case_ref": existing_ref,
                    "candidate": unit.duplicate_candidate(row),
                    "opening": unit.duplicate_opening(row),
                    "confidence": row.confidence,
                    "state": row.state,
                    "created_at": as_utc(row.created_at),
                    "decided_by": row.decided_by,
                    "decided_at": as_utc(row.decided_at) if row.decided_at else None,
                    "decision_why": unit.protector.open_text(row.decision_why, binding),
                    "resulting_case_ref": resulting_ref,
                }
            )
        )
    return views
