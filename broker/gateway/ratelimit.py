"""Per-agency request rates (the `limits` library's moving window, in this process)."""

import math
import time

from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from broker.gateway.errors import RateLimited


class AgencyRateLimiter:
    """`rate` like `120/minute`: each agency's own budget, so one busy or misbehaving agency
    cannot starve the others. Per process: with N gateway replicas an agency gets up to N
    times the rate (a shared store would need Redis; the hub does not run one)."""

    def __init__(self, rate: str) -> None:
        self._item = parse(rate)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def check(self, agency_id: str) -> None:
        """Count a request; `RateLimited` (with the seconds to wait) when over the rate."""
        if not self._limiter.hit(self._item, agency_id):
            reset = self._limiter.get_window_stats(self._item, agency_id).reset_time
            raise RateLimited(max(1, math.ceil(reset - time.time())))
