"""Fixtures of the school adapter's integration tests: schools and their LA on a database of
each kind (the shared `db_url`), on the hand clock."""

from pathlib import Path

import pytest

from tests.clock import Clock
from tests.integration.school.school_world import SchoolWorld


@pytest.fixture
def world(tmp_path: Path, db_url: str, clock: Clock) -> SchoolWorld:
    """LA 330, two of its schools and a school in LA 331, adapters built and migrated."""
    return SchoolWorld(tmp_path, db_url, clock)
