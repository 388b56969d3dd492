"""The school attendance order route (Education Act 1996 ss437-438): deadlines in calendar
days, and refusals of steps out of order or too early.
"""

from datetime import date

import pytest

from adapters.la.errors import InvalidSaoStep
from adapters.la.model import SaoStep
from adapters.la.rules import DeskPolicy, SaoPlan, SaoStepTaken
from tests.unit.la.desk_builders import AGENCIES, OWN_LA, POLICY

S = SaoStep
SERVED = date(2026, 11, 2)
PERIOD_ENDS = date(2026, 11, 16)  # 15 days beginning with 2 November
INTENDED = date(2026, 11, 17)
CHOICE_ENDS = date(2026, 12, 1)  # 15 days beginning with 17 November
ORDER = date(2026, 12, 2)
COMPLY_BY = date(2026, 12, 17)


def up_to_order() -> SaoPlan:
    return (
        SaoPlan.start(SERVED)
        .record(S.INTENDED_SCHOOL_NOTICE, INTENDED)
        .record(S.ORDER_SERVED, ORDER)
    )


def test_projected_deadlines_from_the_s437_notice() -> None:
    dates = SaoPlan.start(SERVED).dates
    assert dates.notice_served_on == SERVED
    assert dates.notice_period_ends == PERIOD_ENDS
    assert dates.intended_notice_from == INTENDED
    assert dates.choice_period_ends == CHOICE_ENDS
    assert dates.order_from == ORDER
    assert dates.comply_by == COMPLY_BY


def test_deadlines_follow_the_steps_actually_taken() -> None:
    plan = SaoPlan.start(SERVED).record(S.INTENDED_SCHOOL_NOTICE, date(2026, 11, 20))
    assert plan.dates.choice_period_ends == date(2026, 12, 4)
    plan = plan.record(S.ORDER_SERVED, date(2026, 12, 10))
    assert plan.dates.comply_by == date(2026, 12, 25)
    assert plan.taken_on(S.ORDER_SERVED) == date(2026, 12, 10)
    assert plan.taken_on(S.COMPLIED) is None


def test_a_longer_notice_period_from_the_policy() -> None:
    policy = DeskPolicy(la_id=OWN_LA, agencies=AGENCIES, sao_notice_days=20, sao_compliance_days=10)
    plan = SaoPlan.for_policy(SERVED, policy)
    assert plan.dates.notice_period_ends == date(2026, 11, 21)
    assert plan.dates.order_from == date(2026, 12, 7)
    assert plan.dates.comply_by == date(2026, 12, 17)
    assert SaoPlan.for_policy(SERVED, POLICY).dates == SaoPlan.start(SERVED).dates


@pytest.mark.parametrize("final", [S.COMPLIED, S.NOT_COMPLIED])
def test_the_whole_route(final: SaoStep) -> None:
    plan = up_to_order()
    assert plan.next_steps == (S.COMPLIED, S.NOT_COMPLIED)
    assert not plan.finished
    done = plan.record(final, date(2026, 12, 18))
    assert done.finished
    assert done.next_steps == ()
    assert [taken.step for taken in done.steps] == [
        S.S437_1_NOTICE,
        S.INTENDED_SCHOOL_NOTICE,
        S.ORDER_SERVED,
        final,
    ]


def test_compliance_may_be_recorded_before_the_order_date() -> None:
    assert up_to_order().record(S.COMPLIED, date(2026, 12, 3)).finished


@pytest.mark.parametrize(
    ("build", "reason"),
    [
        pytest.param(
            lambda: SaoPlan.start(SERVED, notice_days=14),
            "s437_notice_period_too_short",
            id="notice-under-15-days",
        ),
        pytest.param(
            lambda: SaoPlan.start(SERVED, compliance_days=0),
            "sao_compliance_days_invalid",
            id="no-compliance-days",
        ),
        pytest.param(lambda: SaoPlan(()), "sao_not_started", id="no-steps"),
        pytest.param(
            lambda: SaoPlan((SaoStepTaken(S.ORDER_SERVED, ORDER),)),
            "sao_not_started",
            id="order-first",
        ),
        pytest.param(
            lambda: SaoPlan.start(SERVED).record(S.INTENDED_SCHOOL_NOTICE, PERIOD_ENDS),
            "s437_notice_period_running",
            id="intended-notice-on-last-day-of-period",
        ),
        pytest.param(
            lambda: SaoPlan.start(SERVED).record(S.ORDER_SERVED, date(2026, 12, 20)),
            "sao_step_out_of_order",
            id="order-without-intended-school-notice",
        ),
        pytest.param(
            lambda: SaoPlan.start(SERVED).record(S.S437_1_NOTICE, INTENDED),
            "sao_step_out_of_order",
            id="notice-twice",
        ),
        pytest.param(
            lambda: (
                SaoPlan.start(SERVED)
                .record(S.INTENDED_SCHOOL_NOTICE, INTENDED)
                .record(S.ORDER_SERVED, CHOICE_ENDS)
            ),
            "s438_choice_period_running",
            id="order-within-parents-15-days",
        ),
        pytest.param(
            lambda: SaoPlan.start(SERVED).record(S.COMPLIED, INTENDED),
            "sao_step_out_of_order",
            id="complied-before-any-order",
        ),
        pytest.param(
            lambda: up_to_order().record(S.NOT_COMPLIED, COMPLY_BY),
            "sao_compliance_period_running",
            id="not-complied-on-the-order-date",
        ),
        pytest.param(
            lambda: up_to_order().record(S.COMPLIED, date(2026, 12, 1)),
            "sao_step_before_previous",
            id="complied-before-the-order",
        ),
        pytest.param(
            lambda: (
                up_to_order()
                .record(S.COMPLIED, date(2026, 12, 18))
                .record(S.NOT_COMPLIED, date(2026, 12, 19))
            ),
            "sao_route_finished",
            id="after-the-end",
        ),
    ],
)
def test_refused_steps(build: object, reason: str) -> None:
    assert callable(build)
    with pytest.raises(InvalidSaoStep) as refused:
        build()
    assert refused.value.reason == reason


def test_a_refused_step_leaves_the_plan_unchanged() -> None:
    plan = SaoPlan.start(SERVED)
    with pytest.raises(InvalidSaoStep):
        plan.record(S.INTENDED_SCHOOL_NOTICE, SERVED)
    assert plan.steps == (SaoStepTaken(S.S437_1_NOTICE, SERVED),)
