"""Time source, injected everywhere so tests can freeze it."""

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time, UTC-aware."""
    return datetime.now(UTC)
