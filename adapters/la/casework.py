"""Changes to an open case beyond intake: enquiries, state, risk, owner, closure, reopening
and school attendance order steps. Each records who and why on the timeline.

The register records what it is told: whether a closure is allowed (outcome and evidence)
is for `adapters.la.rules`, before the call.
"""

from datetime import date

from sqlmodel import select

from adapters.la.model import CaseState, EnquiryState, Priority, SaoStep
from adapters.la.records import EnquiryChange, EnquiryDraft, EventKind
from adapters.la.store_errors import CaseStateConflict, EnquiryNotFound
from adapters.la.tables import EnquiryRow, SaoStepRow
from adapters.la.unit import Unit, case_binding, check_actor, enquiry_binding, ids, new_uid
from schemas.case import ClosureOutcome
from schemas.domain import RiskFlag

_ENQUIRY_EVENTS = {
    EnquiryState.PLANNED: EventKind.ENQUIRY_PLANNED,
    EnquiryState.SENT: EventKind.ENQUIRY_SENT,
    EnquiryState.ANSWERED: EventKind.ENQUIRY_ANSWERED,
    EnquiryState.OVERDUE: EventKind.ENQUIRY_OVERDUE,
}


def record_enquiry(unit: Unit, case_ref: str, draft: EnquiryDraft, actor: str) -> str:
    """Insert an enquiry; returns its id."""
    case = unit.case(case_ref)
    uid = new_uid()
    unit.session.add(
        EnquiryRow(
            uid=uid,
            case_id=ids(case),
            target=draft.target,
            agency_id=draft.agency_id,
            message_id=draft.message_id,
            state=draft.state,
            created_at=unit.clock(),
            sent_at=draft.sent_at,
            respond_by=draft.respond_by,
        )
    )
    unit.event(
        case,
        _ENQUIRY_EVENTS[draft.state],
        actor,
        message_id=draft.message_id,
        detail={
            "enquiry_id": uid,
            "target": draft.target.value,
            "agency_id": draft.agency_id,
            "respond_by": draft.respond_by.isoformat() if draft.respond_by else None,
        },
    )
    return uid


def update_enquiry(
    unit: Unit, enquiry_id: str, change: EnquiryChange, actor: str, why: str | None
) -> None:
    """Apply a change; a change of state is a timeline entry (evidence stays on the enquiry)."""
    row = unit.session.exec(select(EnquiryRow).where(EnquiryRow.uid == enquiry_id)).first()
    if row is None:
        raise EnquiryNotFound(detail=f"no enquiry {enquiry_id}")
    before = EnquiryState(row.state)
    now = unit.clock()
    for field in ("message_id", "sent_at", "respond_by", "answered_at", "outcome"):
        value = getattr(change, field)
        if value is not None:
            setattr(row, field, value)
    if change.evidence is not None:
        row.evidence = unit.protector.seal_text(change.evidence, enquiry_binding(row.uid))
    if change.state is not None:
        row.state = change.state
        if change.state is EnquiryState.SENT and row.sent_at is None:
            row.sent_at = now
        if change.state is EnquiryState.ANSWERED and row.answered_at is None:
            row.answered_at = now
    unit.session.add(row)
    if change.state is not None and change.state is not before:
        case = unit.case_by_id(row.case_id)
        unit.event(
            case,
            _ENQUIRY_EVENTS[change.state],
            actor,
            why=why,
            message_id=change.message_id,
            detail={
                "enquiry_id": row.uid,
                "target": row.target,
                "agency_id": row.agency_id,
                "from": before.value,
                "outcome": row.outcome,
            },
        )


def set_state(
    unit: Unit,
    case_ref: str,
    state: CaseState,
    actor: str,
    why: str | None,
    message_id: str | None,
) -> None:
    """Move an unclosed case between its open states (closing and reopening have their own)."""
    if state is CaseState.CLOSED:
        raise CaseStateConflict(detail="close a case with close_case (it needs an outcome)")
    case = unit.case(case_ref)
    if case.state == CaseState.CLOSED:
        raise CaseStateConflict(detail=f"case {case_ref} is closed: reopen it first")
    before, case.state = case.state, state
    unit.session.add(case)
    unit.event(
        case,
        EventKind.STATE_CHANGED,
        actor,
        why=why,
        message_id=message_id,
        detail={"from": before, "to": state.value},
    )


def update_risk(
    unit: Unit,
    case_ref: str,
    risk_flags: tuple[RiskFlag, ...],
    priority: Priority,
    actor: str,
    why: str | None,
) -> None:
    """Replace the risk flags and the priority derived from them."""
    case = unit.case(case_ref)
    before = case.priority
    case.risk_flags = sorted({flag.value for flag in risk_flags})
    case.priority = priority
    unit.session.add(case)
    unit.event(
        case,
        EventKind.RISK_CHANGED,
        actor,
        why=why,
        detail={"from": before, "to": priority.value, "flags": ",".join(case.risk_flags)},
    )


def assign(unit: Unit, case_ref: str, owner: str | None, actor: str) -> None:
    """Give the case to a case worker (None: unassigned)."""
    if owner is not None:
        check_actor(owner)
    case = unit.case(case_ref)
    before, case.owner = case.owner, owner
    unit.session.add(case)
    unit.event(case, EventKind.OWNER_CHANGED, actor, detail={"from": before, "to": owner})


def close_case(
    unit: Unit,
    case_ref: str,
    outcome: ClosureOutcome,
    evidence: str,
    actor: str,
    why: str,
    message_id: str | None,
) -> None:
    """Record a closure: outcome, evidence (encrypted), who, when and why."""
    if not evidence.strip():
        raise ValueError("a closure needs evidence")
    case = unit.case(case_ref)
    if case.state == CaseState.CLOSED:
        raise CaseStateConflict(detail=f"case {case_ref} is already closed")
    before = case.state
    case.state = CaseState.CLOSED
    case.closed_at = unit.clock()
    case.closed_by = actor
    case.closure_outcome = outcome
    case.closure_evidence = unit.protector.seal_text(
        evidence, case_binding(case, "closure_evidence")
    )
    unit.session.add(case)
    # The evidence goes on the entry too, so it outlives a reopening.
    unit.event(
        case,
        EventKind.CLOSED,
        actor,
        why=why,
        evidence=evidence,
        message_id=message_id,
        detail={"outcome": outcome.value, "from": before},
    )


def reopen_case(unit: Unit, case_ref: str, actor: str, why: str, message_id: str | None) -> None:
    """Put a closed case back on the tracking list (the closure stays in the timeline)."""
    case = unit.case(case_ref)
    if case.state != CaseState.CLOSED:
        raise CaseStateConflict(detail=f"case {case_ref} is not closed")
    previous = case.closure_outcome
    case.state = CaseState.OPEN
    case.closed_at = None
    case.closed_by = None
    case.closure_outcome = None
    case.closure_evidence = None
    unit.session.add(case)
    unit.event(
        case,
        EventKind.REOPENED,
        actor,
        why=why,
        message_id=message_id,
        detail={"previous_outcome": previous},
    )


def record_sao_step(
    unit: Unit,
    case_ref: str,
    step: SaoStep,
    served_on: date,
    deadline: date | None,
    actor: str,
    why: str | None,
) -> None:
    """Record a school attendance order step and its deadline."""
    case = unit.case(case_ref)
    unit.session.add(
        SaoStepRow(
            case_id=ids(case),
            step=step,
            served_on=served_on,
            deadline=deadline,
            recorded_at=unit.clock(),
            recorded_by=actor,
        )
    )
    unit.event(
        case,
        EventKind.SAO_STEP,
        actor,
        why=why,
        detail={
            "step": step.value,
            "served_on": served_on.isoformat(),
            "deadline": deadline.isoformat() if deadline else None,
        },
    )
