"""The school attendance order route, Education Act 1996 ss437-443, as dated steps.

1. s437(1) notice: the parent must satisfy the LA, within the period the notice gives, that
   the child receives suitable education. s437(2): "not less than 15 days beginning with the
   day on which the notice is served", so the serving day is day 1 and a 15-day period ends on
   the 14th day after it.
2. s438(2) notice of the school the LA intends to name (and any alternatives): served once the
   s437(1) period has ended without the parent satisfying the LA (s437(3)(a)).
3. s438(3)-(4): the parent has 15 days, beginning with the day that notice is served, to choose
   one of the alternatives or secure a place elsewhere; only then may the order be served.
4. The order states when the child must be registered; after that date the LA records
   compliance or non-compliance (s443: the LA then considers prosecution).

Periods are calendar days ("day" in the Act), not working or school days.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final, NamedTuple

from adapters.la.errors import InvalidSaoStep
from adapters.la.model import SaoStep
from adapters.la.rules.policy import S437_MINIMUM_NOTICE_DAYS, DeskPolicy

S438_CHOICE_DAYS: Final = 15
"""s438(3)-(4): the parent's period to choose a school (fixed by statute)."""

_NEXT: Final = {
    SaoStep.S437_1_NOTICE: (SaoStep.INTENDED_SCHOOL_NOTICE,),
    SaoStep.INTENDED_SCHOOL_NOTICE: (SaoStep.ORDER_SERVED,),
    SaoStep.ORDER_SERVED: (SaoStep.COMPLIED, SaoStep.NOT_COMPLIED),
    SaoStep.COMPLIED: (),
    SaoStep.NOT_COMPLIED: (),
}


class SaoStepTaken(NamedTuple):
    """A step of the route and the day it was taken (served, or recorded)."""

    step: SaoStep
    on: date


def _last_day(first: date, days: int) -> date:
    """The last day of a period of `days` days beginning with `first` (first day counted)."""
    return first + timedelta(days=days - 1)


@dataclass(frozen=True, slots=True)
class SaoDates:
    """The route's deadlines: from the steps taken, or projected from the earliest allowed day
    for the steps not taken yet."""

    notice_served_on: date
    notice_period_ends: date
    """Last day the parent may satisfy the LA under the s437(1) notice."""
    intended_notice_from: date
    """Earliest day for the s438(2) notice."""
    choice_period_ends: date
    """Last day of the parent's 15 days to choose a school (s438)."""
    order_from: date
    """Earliest day to serve the order."""
    comply_by: date
    """Last day to register the child at the named school."""


@dataclass(frozen=True, slots=True)
class SaoPlan:
    """A case's school attendance order route: the steps taken, checked for order and timing
    whenever a plan is built (so an invalid plan cannot exist).

    Raises `InvalidSaoStep` with reasons `s437_notice_period_too_short`, `sao_not_started`,
    `sao_route_finished`, `sao_step_out_of_order`, `sao_step_before_previous`,
    `s437_notice_period_running`, `s438_choice_period_running`,
    `sao_compliance_period_running`, `sao_compliance_days_invalid`.
    """

    steps: tuple[SaoStepTaken, ...]
    notice_days: int = S437_MINIMUM_NOTICE_DAYS
    compliance_days: int = 15

    def __post_init__(self) -> None:
        if self.notice_days < S437_MINIMUM_NOTICE_DAYS:
            raise InvalidSaoStep(
                "s437_notice_period_too_short", "s437(2) requires at least 15 days"
            )
        if self.compliance_days < 1:
            raise InvalidSaoStep("sao_compliance_days_invalid", "give at least one day")
        if not self.steps or self.steps[0].step is not SaoStep.S437_1_NOTICE:
            raise InvalidSaoStep("sao_not_started", "the route starts with the s437(1) notice")
        for index in range(1, len(self.steps)):
            self._check_step(index)

    @classmethod
    def start(
        cls,
        served_on: date,
        *,
        notice_days: int = S437_MINIMUM_NOTICE_DAYS,
        compliance_days: int = 15,
    ) -> "SaoPlan":
        """A route begun by a s437(1) notice served on `served_on`."""
        first = SaoStepTaken(SaoStep.S437_1_NOTICE, served_on)
        return cls((first,), notice_days, compliance_days)

    @classmethod
    def for_policy(cls, served_on: date, policy: DeskPolicy) -> "SaoPlan":
        """A route begun on `served_on` with the LA's notice and compliance periods."""
        return cls.start(
            served_on,
            notice_days=policy.sao_notice_days,
            compliance_days=policy.sao_compliance_days,
        )

    def record(self, step: SaoStep, on: date) -> "SaoPlan":
        """The plan with `step` taken on `on`; raises `InvalidSaoStep` when not allowed."""
        taken = (*self.steps, SaoStepTaken(step, on))
        return SaoPlan(taken, self.notice_days, self.compliance_days)

    def taken_on(self, step: SaoStep) -> date | None:
        """The day `step` was taken, or None."""
        return next((taken.on for taken in self.steps if taken.step is step), None)

    @property
    def finished(self) -> bool:
        """True once compliance or non-compliance is recorded."""
        return not _NEXT[self.steps[-1].step]

    @property
    def next_steps(self) -> tuple[SaoStep, ...]:
        """The steps that may come next (none when finished)."""
        return _NEXT[self.steps[-1].step]

    @property
    def dates(self) -> SaoDates:
        """The route's deadlines (see `SaoDates`)."""
        return self._dates(self.steps)

    def _dates(self, steps: tuple[SaoStepTaken, ...]) -> SaoDates:
        taken = {item.step: item.on for item in steps}
        served = taken[SaoStep.S437_1_NOTICE]
        period_ends = _last_day(served, self.notice_days)
        intended_from = period_ends + timedelta(days=1)
        intended_on = taken.get(SaoStep.INTENDED_SCHOOL_NOTICE, intended_from)
        choice_ends = _last_day(intended_on, S438_CHOICE_DAYS)
        order_from = choice_ends + timedelta(days=1)
        order_on = taken.get(SaoStep.ORDER_SERVED, order_from)
        return SaoDates(
            notice_served_on=served,
            notice_period_ends=period_ends,
            intended_notice_from=intended_from,
            choice_period_ends=choice_ends,
            order_from=order_from,
            comply_by=order_on + timedelta(days=self.compliance_days),
        )

    def _check_step(self, index: int) -> None:
        before, (step, on) = self.steps[:index], self.steps[index]
        previous = before[-1]
        if not _NEXT[previous.step]:
            raise InvalidSaoStep("sao_route_finished", "the route has already ended")
        if step not in _NEXT[previous.step]:
            raise InvalidSaoStep("sao_step_out_of_order", "steps follow ss437-438 in order")
        if on < previous.on:
            raise InvalidSaoStep("sao_step_before_previous", "a step predates the one before")
        dates = self._dates(before)
        if step is SaoStep.INTENDED_SCHOOL_NOTICE and on <= dates.notice_period_ends:
            raise InvalidSaoStep("s437_notice_period_running", "the s437(1) period has not ended")
        if step is SaoStep.ORDER_SERVED and on <= dates.choice_period_ends:
            raise InvalidSaoStep("s438_choice_period_running", "the parent's 15 days run on")
        if step is SaoStep.NOT_COMPLIED and on <= dates.comply_by:
            raise InvalidSaoStep("sao_compliance_period_running", "the order's date has not passed")
