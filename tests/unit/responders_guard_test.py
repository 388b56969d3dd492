"""Guarding lookups without I/O: the circuit breaker leaves a failed source alone for its
cool-down (enquiries go to the work list without calling it), and a deadline runs down."""

from datetime import date

import pytest

from broker.responder import (
    Answered,
    CircuitBreaker,
    Deadline,
    LocateAnswer,
    LocateResult,
    Referred,
    SourceUnavailable,
)
from broker.responder.model import SOURCE_UNAVAILABLE
from schemas.messages.cme import LocateEnquiryV1, LocateOutcome
from tests.unit.responders_builders import TODAY, enquiry

FOUND = Answered(LocateAnswer(LocateOutcome.NOT_FOUND, TODAY), "unique_match")


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class FakeSource:
    """Fails while `down`, else answers; counts the calls."""

    def __init__(self) -> None:
        self.down = True
        self.calls = 0

    def locate(self, enquiry: LocateEnquiryV1, today: date) -> LocateResult:
        self.calls += 1
        if self.down:
            raise SourceUnavailable("down", reason="fhir_timeout")
        return FOUND


def test_after_a_failure_lookups_skip_the_source_for_the_cool_down() -> None:
    clock, source = FakeClock(), FakeSource()
    breaker = CircuitBreaker(source, cooldown_s=60, clock=clock)
    with pytest.raises(SourceUnavailable) as caught:
        breaker.locate(enquiry(), TODAY)
    assert caught.value.reason == "fhir_timeout"  # the first failure keeps its own reason
    assert breaker.is_open

    clock.now += 59
    assert breaker.locate(enquiry(), TODAY) == Referred(SOURCE_UNAVAILABLE)
    assert breaker.locate(enquiry(), TODAY) == Referred(SOURCE_UNAVAILABLE)
    assert source.calls == 1  # not called during the cool-down

    clock.now += 1  # the cool-down is over: try again; it fails: pause again
    with pytest.raises(SourceUnavailable):
        breaker.locate(enquiry(), TODAY)
    assert source.calls == 2
    assert breaker.locate(enquiry(), TODAY) == Referred(SOURCE_UNAVAILABLE)

    clock.now += 60
    source.down = False
    assert breaker.locate(enquiry(), TODAY) == FOUND
    assert not breaker.is_open
    assert breaker.locate(enquiry(), TODAY) == FOUND
    assert source.calls == 4


def test_a_source_that_works_is_always_called() -> None:
    clock, source = FakeClock(), FakeSource()
    source.down = False
    breaker = CircuitBreaker(source, cooldown_s=60, clock=clock)
    for _ in range(3):
        assert breaker.locate(enquiry(), TODAY) == FOUND
    assert source.calls == 3


def test_a_negative_cool_down_is_refused() -> None:
    with pytest.raises(ValueError, match="cool-down"):
        CircuitBreaker(FakeSource(), cooldown_s=-1)


def test_a_deadline_runs_down_to_zero() -> None:
    clock = FakeClock()
    deadline = Deadline(10, clock)
    assert deadline.remaining() == 10
    clock.now += 4
    assert deadline.remaining() == 6
    assert not deadline.expired()
    clock.now += 7
    assert deadline.remaining() == 0
    assert deadline.expired()
