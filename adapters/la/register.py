"""The case register: the LA's CME tracking list, persisted with the child's identity
encrypted at rest and findable only through keyed blind indexes.

Every method runs in a transaction of its own, or inside the caller's when given `session=`
(the agency client's inbox handler passes its session, so "consume a message + change the
register + stage the replies in the outbox" commits or rolls back as one). Within a caller's
session the register flushes but never commits.

Matching an incoming child (`match`, `intake`): a shared UPN, NHS number or consistent
identifier is certain (IDENTIFIER); otherwise candidates sharing a demographic key are
decrypted and scored (`adapters.la.matching` documents the score): at or above the certain
threshold DEMOGRAPHIC, between the thresholds POSSIBLE (queued for a person, never merged
silently), below NONE.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Engine
from sqlmodel import Session, col

from adapters.la import casework, intake, views
from adapters.la.matching import MatchPolicy
from adapters.la.model import CaseState, Priority, SaoStep
from adapters.la.protect import Protector
from adapters.la.records import (
    CaseDetail,
    CaseFilter,
    CaseOpening,
    CaseSummary,
    Detail,
    DuplicateState,
    DuplicateView,
    EnquiryChange,
    EnquiryDraft,
    EnquiryView,
    EventKind,
    IntakeResult,
    Match,
)
from adapters.la.settings import DeskSettings
from adapters.la.tables import EnquiryRow
from adapters.la.unit import Unit
from broker.clock import Clock, utc_now
from schemas.case import ClosureOutcome
from schemas.child import ChildIdentity
from schemas.domain import RiskFlag

_DETAIL = TypeAdapter(Detail)


@dataclass(frozen=True)
class RegisterConfig:
    """The register's settings: the LA code in case refs and the match thresholds."""

    la_code: str
    policy: MatchPolicy = field(default_factory=MatchPolicy)

    @classmethod
    def from_settings(cls, settings: DeskSettings) -> "RegisterConfig":
        """From the desk settings."""
        return cls(
            la_code=settings.la_code,
            policy=MatchPolicy(certain=settings.match_certain, possible=settings.match_possible),
        )


class CaseRegister:
    """The repository of CME cases (see the module docstring)."""

    def __init__(
        self, engine: Engine, protector: Protector, config: RegisterConfig, clock: Clock = utc_now
    ) -> None:
        self._engine = engine
        self._protector = protector
        self._config = config
        self._clock = clock

    @contextmanager
    def _unit(self, session: Session | None) -> Iterator[Unit]:
        if session is not None:
            yield self._make_unit(session)
            session.flush()
            return
        with Session(self._engine) as own:
            yield self._make_unit(own)
            own.commit()

    def _make_unit(self, session: Session) -> Unit:
        return Unit(session, self._protector, self._clock, self._config.la_code)

    # -- intake ----------------------------------------------------------------------------

    def open_case(
        self, child: ChildIdentity, opening: CaseOpening, *, session: Session | None = None
    ) -> str:
        """Open a new case for the child, unconditionally; returns its case ref."""
        with self._unit(session) as unit:
            return intake.open_case(unit, child, opening).case_ref

    def match(self, child: ChildIdentity, *, session: Session | None = None) -> Match:
        """How the child matches the register (reads only: queues nothing)."""
        with self._unit(session) as unit:
            return intake.find_match(unit, child, self._config.policy)

    def intake(
        self, child: ChildIdentity, opening: CaseOpening, *, session: Session | None = None
    ) -> IntakeResult:
        """Match the child, then attach the notification to its case (IDENTIFIER,
        DEMOGRAPHIC), queue a possible duplicate (POSSIBLE), or open a case (NONE)."""
        with self._unit(session) as unit:
            return intake.intake(unit, child, opening, self._config.policy)

    def possible_duplicates(
        self, state: DuplicateState | None = DuplicateState.PENDING
    ) -> list[DuplicateView]:
        """The possible-duplicate queue (None: every entry, decided or not)."""
        with self._unit(None) as unit:
            return views.list_duplicates(unit, state)

    def decide_duplicate(
        self,
        duplicate_id: str,
        decision: DuplicateState,
        actor: str,
        why: str,
        *,
        session: Session | None = None,
    ) -> str:
        """MERGED: the candidate joins the existing case; DISTINCT: a case opens for it.
        Once only (AlreadyDecided after). Returns the case the child is now on."""
        with self._unit(session) as unit:
            return intake.decide(unit, duplicate_id, decision, actor, why)

    # -- timeline --------------------------------------------------------------------------

    def add_event(
        self,
        case_ref: str,
        kind: EventKind,
        actor: str,
        *,
        why: str | None = None,
        evidence: str | None = None,
        message_id: str | None = None,
        detail: Detail | None = None,
        session: Session | None = None,
    ) -> None:
        """Append to the timeline. `why` and `evidence` are encrypted; `detail` is stored in
        clear and must hold codes and ids only (never a name, address or identifier)."""
        try:
            checked = _DETAIL.validate_python(detail or {})
        except ValidationError:
            # Pydantic's message would quote the offending key or value: it may be personal.
            raise ValueError(
                "event detail maps snake_case keys to short scalars (codes and ids only)"
            ) from None
        with self._unit(session) as unit:
            unit.event(
                unit.case(case_ref),
                kind,
                actor,
                why=why,
                evidence=evidence,
                message_id=message_id,
                detail=checked,
            )

    # -- enquiries -------------------------------------------------------------------------

    def record_enquiry(
        self, case_ref: str, draft: EnquiryDraft, actor: str, *, session: Session | None = None
    ) -> str:
        """Record a locate enquiry on a case; returns the enquiry id."""
        with self._unit(session) as unit:
            return casework.record_enquiry(unit, case_ref, draft, actor)

    def update_enquiry(
        self,
        enquiry_id: str,
        change: EnquiryChange,
        actor: str,
        *,
        why: str | None = None,
        session: Session | None = None,
    ) -> None:
        """Change an enquiry (sent, answered with outcome and evidence, overdue)."""
        with self._unit(session) as unit:
            casework.update_enquiry(unit, enquiry_id, change, actor, why)

    def enquiry_for_message(
        self, message_id: str, *, session: Session | None = None
    ) -> EnquiryView | None:
        """The enquiry a message id was sent as (to file the answer that cites it)."""
        with self._unit(session) as unit:
            found = views.enquiry_views(unit, col(EnquiryRow.message_id) == message_id)
            return found[0] if found else None

    def overdue_enquiries(self, on: date | None = None) -> list[EnquiryView]:
        """Enquiries unanswered past their respond-by date as of `on` (default: today, UTC)."""
        with self._unit(None) as unit:
            return views.overdue_enquiries(unit, on or self._clock().date())

    # -- the case --------------------------------------------------------------------------

    def list_cases(self, wanted: CaseFilter | None = None) -> list[CaseSummary]:
        """The tracking list (default: every unclosed case), urgent and oldest first."""
        with self._unit(None) as unit:
            return views.list_cases(unit, wanted or CaseFilter())

    def show_case(self, case_ref: str, *, session: Session | None = None) -> CaseDetail:
        """One case in full, decrypted: the child, timeline, enquiries and SAO steps."""
        with self._unit(session) as unit:
            return views.show_case(unit, case_ref)

    def set_state(
        self,
        case_ref: str,
        state: CaseState,
        actor: str,
        *,
        why: str | None = None,
        message_id: str | None = None,
        session: Session | None = None,
    ) -> None:
        """Move an unclosed case between OPEN, AWAITING_RECEIVING_LA and NATIONAL_SEARCH."""
        with self._unit(session) as unit:
            casework.set_state(unit, case_ref, state, actor, why, message_id)

    def update_risk(
        self,
        case_ref: str,
        risk_flags: tuple[RiskFlag, ...],
        priority: Priority,
        actor: str,
        *,
        why: str | None = None,
        session: Session | None = None,
    ) -> None:
        """Replace the case's risk flags and priority."""
        with self._unit(session) as unit:
            casework.update_risk(unit, case_ref, risk_flags, priority, actor, why)

    def assign(
        self, case_ref: str, owner: str | None, actor: str, *, session: Session | None = None
    ) -> None:
        """Give the case to a case worker (None: unassigned)."""
        with self._unit(session) as unit:
            casework.assign(unit, case_ref, owner, actor)

    def close_case(
        self,
        case_ref: str,
        outcome: ClosureOutcome,
        evidence: str,
        actor: str,
        why: str,
        *,
        message_id: str | None = None,
        session: Session | None = None,
    ) -> None:
        """Record a closure (validate it first with `rules.validate_closure`)."""
        with self._unit(session) as unit:
            casework.close_case(unit, case_ref, outcome, evidence, actor, why, message_id)

    def reopen_case(
        self,
        case_ref: str,
        actor: str,
        why: str,
        *,
        message_id: str | None = None,
        session: Session | None = None,
    ) -> None:
        """Put a closed case back on the tracking list."""
        with self._unit(session) as unit:
            casework.reopen_case(unit, case_ref, actor, why, message_id)

    def record_sao_step(
        self,
        case_ref: str,
        step: SaoStep,
        served_on: date,
        actor: str,
        *,
        deadline: date | None = None,
        why: str | None = None,
        session: Session | None = None,
    ) -> None:
        """Record a school attendance order step (notice, order, compliance)."""
        with self._unit(session) as unit:
            casework.record_sao_step(unit, case_ref, step, served_on, deadline, actor, why)
