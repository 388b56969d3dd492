"""Keeping a slow or failing source from holding up the agency's inbox.

A lookup runs inside the inbox handler, on the agency client's event loop: while a remote
source (a FHIR endpoint) hangs, nothing else is received. So one enquiry's lookups share a
`Deadline` (the source gives up when it passes), and a `CircuitBreaker` stops asking a source
that just failed: for a cool-down, enquiries go straight to the work list (`source_unavailable`)
without calling it. A person answers them before the LA's deadline either way.
"""

import time
from collections.abc import Callable
from datetime import date

import structlog

from broker.responder.errors import SourceUnavailable
from broker.responder.model import SOURCE_UNAVAILABLE
from broker.responder.source import LocateResult, LocateSource, Referred
from schemas.messages.cme import LocateEnquiryV1

log = structlog.get_logger(__name__)
Monotonic = Callable[[], float]
"""Seconds on a clock that never goes back (`time.monotonic`; a fake one in tests)."""


class Deadline:
    """When one enquiry's lookups must be done by (a monotonic instant)."""

    def __init__(self, seconds: float, clock: Monotonic = time.monotonic) -> None:
        self._clock = clock
        self._until = clock() + seconds

    def remaining(self) -> float:
        """Seconds left (0 once passed)."""
        return max(0.0, self._until - self._clock())

    def expired(self) -> bool:
        """The time is up: start no further request."""
        return self.remaining() <= 0


class CircuitBreaker:
    """A `LocateSource` that stops calling the source it wraps for `cooldown_s` seconds after
    the source raised `SourceUnavailable` (down, timed out, answering garbage). The first
    failure keeps its own reason code; enquiries during the cool-down are referred with
    `source_unavailable`; the first lookup after it tries the source again (and a failure
    opens the breaker again)."""

    def __init__(
        self, source: LocateSource, cooldown_s: float, clock: Monotonic = time.monotonic
    ) -> None:
        if cooldown_s < 0:
            raise ValueError("the cool-down is not negative")
        self._source = source
        self._cooldown_s = cooldown_s
        self._clock = clock
        self._open_until: float | None = None

    @property
    def is_open(self) -> bool:
        """Lookups are being refused without calling the source."""
        return self._open_until is not None and self._clock() < self._open_until

    def locate(self, enquiry: LocateEnquiryV1, today: date) -> LocateResult:
        """The source's result, or a referral without calling it during a cool-down. Raises
        the source's `SourceUnavailable` (after opening the breaker)."""
        if self.is_open:
            return Referred(SOURCE_UNAVAILABLE)
        try:
            result = self._source.locate(enquiry, today)
        except SourceUnavailable as exc:
            self._open_until = self._clock() + self._cooldown_s
            log.warning("responder.source_paused", why=exc.reason, cooldown_s=self._cooldown_s)
            raise
        self._open_until = None
        return result
