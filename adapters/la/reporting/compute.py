"""The termly CME analysis for senior leaders and safeguarding partners (`termly_report`).

Definitions. Days are England's calendar days (Europe/London); a case's codes (reason,
trigger, risk flags) are those recorded on it now. Only CME cases count: elective home
education suitability checks are not children missing education. A case is on the list in
episodes (`adapters.la.reporting.reading`): opening (or reopening) to closure.

* Window: from the term's first day to the end of `as_of`, the earlier of the report day and
  the term's last day. A report made mid-term counts what has happened so far.
* Open on census day: an episode open at the end of the census day (None when the census day
  is after `as_of`). Ever open: an episode overlapping the window. Open at end: an episode
  open at the end of the window.
* Opened: cases opened in the window (a reopening is not a new case: it counts in
  `reopened`). Closed: cases with a closure in the window; by outcome, each case's last one.
* Cross-border in: cases with trigger `cross_border_in` opened in the window.
  Cross-border out: cases moved to `awaiting_receiving_la` in the window (the notification
  to the receiving LA went out: `cross_border_out_notified`) or closed with outcome
  `receiving_la_accepted` in the window (`cross_border_out_accepted`); a case doing both
  counts once in `cross_border_out`.
* Durations count whole days from the episode's first day: to the census day (open on census
  day), to the closure day (closed), to `as_of` (open at end). Bands: `figures.DurationBand`.
* Time to locate: every closure in the window with a located outcome (on roll, elective home
  education, left England, receiving LA accepted; "deceased" and "beyond compulsory school
  age" do not locate a child), in days from its episode's first day to the closure day.
* Enquiry SLA, per agency: locate enquiries sent (not merely planned) whose respond-by date
  falls in the term. On time: answered on or before that date; late: answered after it;
  overdue: unanswered and the date has passed; pending: unanswered, not yet due. Judged on
  the report day, not the term's end, so an answer that came late after the term still shows
  as late instead of dropping out of every term's figures.
"""

from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final, TypeVar

from sqlalchemy import Engine

from adapters.la.model import Trigger
from adapters.la.reporting.figures import (
    AgencySla,
    Cohorts,
    DurationBand,
    DurationRow,
    OutcomeRow,
    ReasonRow,
    RiskFlagRow,
    Summary,
    TermReport,
    TimeToLocate,
    band_for,
)
from adapters.la.reporting.reading import (
    ENGLAND,
    CaseFacts,
    EnquiryFacts,
    Episode,
    Window,
    day_start,
    local_day,
    read_cases,
    read_enquiries,
    snapshot,
)
from adapters.la.reporting.terms import ReportError, Term
from schemas.case import ClosureOutcome
from schemas.domain import CmeReason, RiskFlag

LOCATED: Final = frozenset(
    {
        ClosureOutcome.ON_ROLL,
        ClosureOutcome.ELECTIVE_HOME_EDUCATION,
        ClosureOutcome.LEFT_ENGLAND,
        ClosureOutcome.RECEIVING_LA_ACCEPTED,
    }
)
"""Closure outcomes that mean the child was found (and time to locate counts)."""

_ONE_DAY: Final = timedelta(days=1)
_K = TypeVar("_K", bound=Hashable)


@dataclass(frozen=True, slots=True)
class _Place:
    """Where one case stands in the window (see the module docstring)."""

    case: CaseFacts
    census: Episode | None
    ever_open: bool
    opened: bool
    closures: tuple[Episode, ...]
    at_end: Episode | None
    reopened: bool
    notified: bool

    @property
    def closure(self) -> Episode | None:
        """The last closure in the window."""
        return self.closures[-1] if self.closures else None

    @property
    def accepted(self) -> bool:
        """Closed in the window because the receiving LA accepted responsibility."""
        return any(e.outcome is ClosureOutcome.RECEIVING_LA_ACCEPTED for e in self.closures)


def termly_report(engine: Engine, term: Term, *, today: date | None = None) -> TermReport:
    """Every figure of the term's CME analysis (definitions in the module docstring).

    `today` is the report day (default: today in England). Reads three queries in one
    transaction; decrypts nothing. Raises `ReportError` (`term_not_started`) before the
    term's first day.
    """
    made_on = today or datetime.now(ENGLAND).date()
    if made_on < term.start:
        raise ReportError("term_not_started", "a term's report can be made from its first day")
    as_of = min(made_on, term.end)
    window = Window(day_start(term.start), day_start(as_of + _ONE_DAY))
    census = day_start(term.census_day + _ONE_DAY) if term.census_day <= as_of else None
    with snapshot(engine) as connection:
        cases = read_cases(connection, window)
        enquiries = read_enquiries(connection, term, day_start(made_on + _ONE_DAY))
    places = [_place(case, window, census) for case in cases]
    known = census is not None
    return TermReport(
        term=term,
        start=term.start,
        end=term.end,
        census_day=term.census_day,
        as_of=as_of,
        made_on=made_on,
        complete=made_on > term.end,
        summary=_summary(places, known),
        by_reason=_by_reason(places, known),
        by_duration=_by_duration(places, term, as_of, known),
        by_risk_flag=_by_risk_flag(places, known),
        by_outcome=_by_outcome(places),
        enquiry_sla=_enquiry_sla(enquiries, made_on),
        time_to_locate=_time_to_locate(places),
    )


def _place(case: CaseFacts, window: Window, census: datetime | None) -> _Place:
    return _Place(
        case=case,
        census=_open_at(case, census) if census is not None else None,
        ever_open=any(e.overlaps(window) for e in case.episodes),
        opened=window.holds(case.opened_at),
        closures=tuple(e for e in case.episodes if e.ends_in(window)),
        at_end=_open_at(case, window.end),
        reopened=any(window.holds(at) for at in case.reopened_at),
        notified=any(window.holds(at) for at in case.notified_at),
    )


def _open_at(case: CaseFacts, instant: datetime) -> Episode | None:
    return next((e for e in case.episodes if e.open_at(instant)), None)


def _cohorts(places: Sequence[_Place], census_known: bool) -> Cohorts:
    return Cohorts(
        open_on_census_day=sum(p.census is not None for p in places) if census_known else None,
        ever_open=sum(p.ever_open for p in places),
        opened=sum(p.opened for p in places),
        closed=sum(p.closure is not None for p in places),
    )


def _summary(places: Sequence[_Place], census_known: bool) -> Summary:
    cohorts = _cohorts(places, census_known)
    return Summary.model_validate(
        {
            **cohorts.model_dump(),
            "reopened": sum(p.reopened for p in places),
            "open_at_end": sum(p.at_end is not None for p in places),
            "cross_border_in": sum(
                p.opened and p.case.trigger is Trigger.CROSS_BORDER_IN for p in places
            ),
            "cross_border_out": sum(p.notified or p.accepted for p in places),
            "cross_border_out_notified": sum(p.notified for p in places),
            "cross_border_out_accepted": sum(p.accepted for p in places),
        }
    )


def _grouped(pairs: Iterable[tuple[_K, _Place]]) -> defaultdict[_K, list[_Place]]:
    groups: defaultdict[_K, list[_Place]] = defaultdict(list)
    for key, place in pairs:
        groups[key].append(place)
    return groups


def _by_reason(places: Sequence[_Place], census_known: bool) -> tuple[ReasonRow, ...]:
    groups = _grouped((p.case.reason, p) for p in places)
    return tuple(
        ReasonRow.model_validate(
            {"reason": reason, **_cohorts(groups[reason], census_known).model_dump()}
        )
        for reason in CmeReason
    )


def _by_risk_flag(places: Sequence[_Place], census_known: bool) -> tuple[RiskFlagRow, ...]:
    # A case with no flag goes in the None row, so every case is in at least one row.
    flagged = ((flag, p) for p in places for flag in p.case.risk_flags or (None,))
    groups = _grouped(flagged)
    return tuple(
        RiskFlagRow.model_validate(
            {"risk_flag": flag, **_cohorts(groups[flag], census_known).model_dump()}
        )
        for flag in (*RiskFlag, None)
    )


def _days(first: datetime, last: date) -> int:
    return (last - local_day(first)).days


def _by_duration(
    places: Sequence[_Place], term: Term, as_of: date, census_known: bool
) -> tuple[DurationRow, ...]:
    census = Counter(band_for(_days(p.census.start, term.census_day)) for p in places if p.census)
    closed = Counter(
        band_for(_days(e.start, local_day(e.end)))
        for p in places
        if (e := p.closure) is not None and e.end is not None
    )
    at_end = Counter(band_for(_days(p.at_end.start, as_of)) for p in places if p.at_end)
    return tuple(
        DurationRow(
            band=band,
            open_on_census_day=census[band] if census_known else None,
            closed=closed[band],
            open_at_end=at_end[band],
        )
        for band in DurationBand
    )


def _by_outcome(places: Sequence[_Place]) -> tuple[OutcomeRow, ...]:
    outcomes = Counter(
        e.outcome for p in places if (e := p.closure) is not None and e.outcome is not None
    )
    return tuple(
        OutcomeRow(outcome=outcome, closed=outcomes[outcome]) for outcome in ClosureOutcome
    )


def _time_to_locate(places: Sequence[_Place]) -> TimeToLocate:
    return TimeToLocate.of(
        [
            _days(e.start, local_day(e.end))
            for p in places
            for e in p.closures
            if e.end is not None and e.outcome in LOCATED
        ]
    )


def _sla_status(enquiry: EnquiryFacts, made_on: date) -> str:
    answered = enquiry.answered_at
    if answered is not None and local_day(answered) <= made_on:
        return "on_time" if local_day(answered) <= enquiry.respond_by else "late"
    return "overdue" if enquiry.respond_by < made_on else "pending"


def _enquiry_sla(enquiries: Sequence[EnquiryFacts], made_on: date) -> tuple[AgencySla, ...]:
    tallies: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for enquiry in enquiries:
        tallies[enquiry.agency_id][_sla_status(enquiry, made_on)] += 1
    return tuple(
        AgencySla.of(agency, t["on_time"], t["late"], t["overdue"], t["pending"])
        for agency, t in sorted(tallies.items())
    )
