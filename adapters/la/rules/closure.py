"""Closing a case: only with an allowed outcome and the evidence that outcome needs.

A case stays on the tracking list until robust enquiries are complete or the child is
confirmed as receiving suitable education (`shared/domain/timescales.md`). `validate_closure`
refuses everything else with a `ClosureRefused` whose `reason` names the failed rule.
"""

from collections.abc import Callable
from datetime import date
from typing import Final
from uuid import UUID

from adapters.la.errors import ClosureRefused
from adapters.la.model import CaseState
from adapters.la.rules._base import RuleValue
from adapters.la.rules.age import beyond_compulsory_school_age
from schemas.case import ClosureOutcome
from schemas.child import LongText, ShortText
from schemas.identifiers import Laestab


class ClosureEvidence(RuleValue):
    """The evidence offered with a closure. Every field is optional here so that
    `validate_closure` can say precisely which one an outcome lacks."""

    school: Laestab | None = None
    """ON_ROLL: the school's LAESTAB."""
    start_date: date | None = None
    """ON_ROLL: the day the child started (not in the future)."""
    confirmation_message_id: UUID | None = None
    """RECEIVING_LA_ACCEPTED: the received `cme.cross_border_confirmation`."""
    responsibility_accepted: bool | None = None
    """RECEIVING_LA_ACCEPTED: that confirmation's `accepts_responsibility`."""
    how_established: LongText | None = None
    """LEFT_ENGLAND: how the departure was established with reasonable certainty."""
    ehe_assessed_on: date | None = None
    """ELECTIVE_HOME_EDUCATION: when the LA assessed the education."""
    ehe_suitable: bool | None = None
    """ELECTIVE_HOME_EDUCATION: the assessment found it suitable."""
    date_of_death: date | None = None
    death_source: ShortText | None = None
    """DECEASED: where the death was confirmed (e.g. registrar, coroner, health)."""
    date_of_birth: date | None = None
    """BEYOND_COMPULSORY_SCHOOL_AGE: the child's date of birth on the case record."""

    @property
    def is_empty(self) -> bool:
        """True when no evidence at all was given."""
        return all(value is None for value in self.__dict__.values())


def _refuse(reason: str, detail: str) -> ClosureRefused:
    return ClosureRefused(reason, detail)


def _on_roll(evidence: ClosureEvidence, today: date) -> None:
    if evidence.school is None:
        raise _refuse("on_roll_needs_school", "on roll needs the school's LAESTAB")
    if evidence.start_date is None:
        raise _refuse("on_roll_needs_start_date", "on roll needs the start date")
    if evidence.start_date > today:
        # A place offered is not a place taken: the case stays open until the child starts.
        raise _refuse("on_roll_start_in_future", "the child has not started yet")


def _receiving_la(evidence: ClosureEvidence, today: date) -> None:
    if evidence.confirmation_message_id is None:
        raise _refuse("receiving_la_needs_confirmation", "needs the received confirmation")
    if evidence.responsibility_accepted is not True:
        raise _refuse("receiving_la_not_accepted", "the receiving LA did not accept")


def _left_england(evidence: ClosureEvidence, today: date) -> None:
    if evidence.how_established is None:
        raise _refuse("left_england_needs_how_established", "say how the move was established")


def _home_education(evidence: ClosureEvidence, today: date) -> None:
    if evidence.ehe_assessed_on is None:
        raise _refuse("ehe_needs_assessment_date", "needs the suitability assessment date")
    if evidence.ehe_assessed_on > today:
        raise _refuse("ehe_assessment_in_future", "the assessment date is in the future")
    if evidence.ehe_suitable is not True:
        # Unsuitable home education is itself CME (and the s437 route), never a closure.
        raise _refuse("ehe_not_found_suitable", "the assessment did not find it suitable")


def _deceased(evidence: ClosureEvidence, today: date) -> None:
    if evidence.date_of_death is None:
        raise _refuse("deceased_needs_date", "needs the date of death")
    if evidence.death_source is None:
        raise _refuse("deceased_needs_source", "needs the source confirming the death")
    if evidence.date_of_death > today:
        raise _refuse("deceased_date_in_future", "the date of death is in the future")


def _beyond_age(evidence: ClosureEvidence, today: date) -> None:
    if evidence.date_of_birth is None:
        raise _refuse("beyond_age_needs_date_of_birth", "needs the date of birth")
    if not beyond_compulsory_school_age(evidence.date_of_birth, today):
        raise _refuse("still_compulsory_school_age", "the school leaving date has not passed")


_CHECKS: Final[dict[ClosureOutcome, Callable[[ClosureEvidence, date], None]]] = {
    ClosureOutcome.ON_ROLL: _on_roll,
    ClosureOutcome.RECEIVING_LA_ACCEPTED: _receiving_la,
    ClosureOutcome.LEFT_ENGLAND: _left_england,
    ClosureOutcome.ELECTIVE_HOME_EDUCATION: _home_education,
    ClosureOutcome.DECEASED: _deceased,
    ClosureOutcome.BEYOND_COMPULSORY_SCHOOL_AGE: _beyond_age,
}


def validate_closure(
    outcome: ClosureOutcome | str | None,
    evidence: ClosureEvidence | None,
    *,
    state: CaseState,
    today: date,
) -> ClosureOutcome:
    """Return the outcome when the case may close with it and this evidence; otherwise raise
    `ClosureRefused` with the failed rule as `reason` (`case_already_closed`, `no_outcome`,
    `unknown_outcome`, `missing_evidence`, or one rule of the outcome's own)."""
    if state is CaseState.CLOSED:
        raise _refuse("case_already_closed", "the case is already closed")
    if outcome is None or outcome == "":
        raise _refuse("no_outcome", "a closure needs an outcome")
    try:
        known = ClosureOutcome(outcome)
    except ValueError:
        raise _refuse("unknown_outcome", "not an allowed closure outcome") from None
    if evidence is None or evidence.is_empty:
        raise _refuse("missing_evidence", "a closure needs evidence")
    _CHECKS[known](evidence, today)
    return known
