"""A hand-moved clock for tests (every component takes its clock by injection)."""

from datetime import UTC, datetime

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now
