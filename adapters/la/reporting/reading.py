"""What the termly report reads from the register: three queries, codes and times only.

The queries select named columns, never a whole row, so no encrypted column (identity, free
text, evidence) is even fetched, let alone decrypted. Their number does not grow with the
cases (no N+1): the CME cases that could touch the term, the timeline events that shape
those cases' time on the list, and the enquiries due in the term.

A case's time on the list is a series of episodes: from opening to the first closure, then
from each reopening to the next closure. The case row holds only the current closure, so
earlier ones come from the timeline (`closed` and `reopened` events, whose `at` is the same
clock reading as the row's `closed_at`).
"""

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Connection, Engine, or_, select
from sqlmodel import col

from adapters.la.model import CaseKind, CaseState, EnquiryState, Trigger
from adapters.la.records import EventKind
from adapters.la.reporting.terms import ReportError, Term
from adapters.la.tables import CaseRow, EnquiryRow, EventRow
from broker.directory.tables import as_utc
from schemas.case import ClosureOutcome
from schemas.domain import CmeReason, RiskFlag

ENGLAND: Final = ZoneInfo("Europe/London")
"""Days in the report are England's calendar days, not UTC's (they differ in summer time)."""

_Entry = tuple[str, datetime, Mapping[str, Any]]
"""A timeline event as the report reads it: kind, when, detail (codes only)."""
_TIMELINE_KINDS: Final = (EventKind.CLOSED, EventKind.REOPENED, EventKind.STATE_CHANGED)


def day_start(day: date) -> datetime:
    """The first instant of `day` in England, in UTC (the database stores UTC)."""
    return datetime.combine(day, time(), tzinfo=ENGLAND).astimezone(UTC)


def local_day(instant: datetime) -> date:
    """England's calendar day of an instant read from the database."""
    return as_utc(instant).astimezone(ENGLAND).date()


@dataclass(frozen=True, slots=True)
class Window:
    """The instants a report covers: from the term's first day to the end of `as_of`."""

    start: datetime
    end: datetime
    """Exclusive: the first instant after the window."""

    def holds(self, instant: datetime) -> bool:
        """True when the instant falls inside the window."""
        return self.start <= instant < self.end


@dataclass(frozen=True, slots=True)
class Episode:
    """One stretch of a case on the tracking list; `end` None: open at the window's end."""

    start: datetime
    end: datetime | None
    outcome: ClosureOutcome | None

    def open_at(self, instant: datetime) -> bool:
        """On the list at `instant` (a closure at exactly `instant` still counts as open)."""
        return self.start < instant and (self.end is None or self.end >= instant)

    def overlaps(self, window: Window) -> bool:
        """On the list at some moment inside the window."""
        return self.start < window.end and (self.end is None or self.end > window.start)

    def ends_in(self, window: Window) -> bool:
        """Closed inside the window."""
        return self.end is not None and window.holds(self.end)


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What the report knows of one case: codes as now recorded, and its episodes."""

    trigger: Trigger
    reason: CmeReason
    risk_flags: tuple[RiskFlag, ...]
    opened_at: datetime
    episodes: tuple[Episode, ...]
    reopened_at: tuple[datetime, ...]
    notified_at: tuple[datetime, ...]
    """When the case moved to awaiting_receiving_la (a cross-border notification went out)."""


@dataclass(frozen=True, slots=True)
class EnquiryFacts:
    """A sent locate enquiry: who was asked, by when, and when they answered."""

    agency_id: str
    respond_by: date
    answered_at: datetime | None


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """One read transaction for all of a report's queries. On PostgreSQL it is REPEATABLE
    READ, so the queries see one moment: a case closed mid-report must not count as open in
    one table and closed in another."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            yield connection


def _cases_touching(window: Window) -> list[ColumnElement[bool]]:
    # A case closed (for the last time) before the window had all its episodes before it.
    return [
        col(CaseRow.kind) == CaseKind.CME.value,
        col(CaseRow.opened_at) < window.end,
        or_(col(CaseRow.closed_at).is_(None), col(CaseRow.closed_at) >= window.start),
    ]


def read_cases(connection: Connection, window: Window) -> list[CaseFacts]:
    """The CME cases (not EHE suitability checks) on the list at any moment from their
    opening to the window's end, with their episodes as of the window's end."""
    touching = _cases_touching(window)
    cases = connection.execute(
        select(
            col(CaseRow.id),
            col(CaseRow.trigger),
            col(CaseRow.reason),
            col(CaseRow.risk_flags),
            col(CaseRow.opened_at),
        ).where(*touching)
    ).all()
    events = connection.execute(
        select(col(EventRow.case_id), col(EventRow.kind), col(EventRow.at), col(EventRow.detail))
        .where(
            col(EventRow.case_id).in_(select(col(CaseRow.id)).where(*touching)),
            col(EventRow.kind).in_([kind.value for kind in _TIMELINE_KINDS]),
            col(EventRow.at) < window.end,
        )
        .order_by(col(EventRow.case_id), col(EventRow.at), col(EventRow.id))
    ).all()
    # Keyed as the column is typed (a primary key is None only before its row is flushed).
    timelines: defaultdict[int | None, list[_Entry]] = defaultdict(list)
    for case_id, kind, at, detail in events:
        timelines[case_id].append((kind, as_utc(at), detail or {}))
    return [
        _facts(trigger, reason, flags, as_utc(opened_at), timelines.get(case_id, []))
        for case_id, trigger, reason, flags, opened_at in cases
    ]


def _facts(
    trigger: str,
    reason: str,
    flags: Sequence[str] | None,
    opened_at: datetime,
    timeline: Sequence[_Entry],
) -> CaseFacts:
    notified = CaseState.AWAITING_RECEIVING_LA.value
    return CaseFacts(
        trigger=Trigger(trigger),
        reason=CmeReason(reason),
        risk_flags=tuple(RiskFlag(flag) for flag in flags or ()),
        opened_at=opened_at,
        episodes=_episodes(opened_at, timeline),
        reopened_at=tuple(at for kind, at, _ in timeline if kind == EventKind.REOPENED),
        notified_at=tuple(
            at
            for kind, at, detail in timeline
            if kind == EventKind.STATE_CHANGED and detail.get("to") == notified
        ),
    )


def _episodes(opened_at: datetime, timeline: Sequence[_Entry]) -> tuple[Episode, ...]:
    episodes: list[Episode] = []
    start: datetime | None = opened_at
    for kind, at, detail in timeline:
        # The register refuses to close a closed case or reopen an open one; skipping such
        # entries anyway keeps one bad row from skewing the episodes.
        if kind == EventKind.CLOSED and start is not None:
            episodes.append(Episode(start, at, _outcome(detail)))
            start = None
        elif kind == EventKind.REOPENED and start is None:
            start = at
    if start is not None:
        episodes.append(Episode(start, None, None))
    return tuple(episodes)


def _outcome(detail: Mapping[str, Any]) -> ClosureOutcome:
    try:
        return ClosureOutcome(str(detail.get("outcome")))
    except ValueError:
        raise ReportError("unreadable_event", "a closure event has no valid outcome") from None


def read_enquiries(connection: Connection, term: Term, made_until: datetime) -> list[EnquiryFacts]:
    """Locate enquiries on CME cases that were sent (planned ones never reached the agency),
    due in the term, and recorded before `made_until`."""
    rows = connection.execute(
        select(col(EnquiryRow.agency_id), col(EnquiryRow.respond_by), col(EnquiryRow.answered_at))
        .join(CaseRow, col(CaseRow.id) == col(EnquiryRow.case_id))
        .where(
            col(CaseRow.kind) == CaseKind.CME.value,
            col(EnquiryRow.state) != EnquiryState.PLANNED.value,
            col(EnquiryRow.respond_by) >= term.start,
            col(EnquiryRow.respond_by) <= term.end,
            col(EnquiryRow.created_at) < made_until,
        )
    ).all()
    return [
        EnquiryFacts(agency, respond_by, as_utc(answered) if answered else None)
        for agency, respond_by, answered in rows
        if respond_by is not None
    ]
