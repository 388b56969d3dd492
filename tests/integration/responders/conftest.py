"""Fixtures of the responders' integration tests: a world on a database of each kind."""

from pathlib import Path

import pytest

from tests.clock import Clock
from tests.integration.responders.world import ResponderWorld


@pytest.fixture
def world(tmp_path: Path, db_url: str, clock: Clock) -> ResponderWorld:
    """LA 330 and its responders on a fresh database (SQLite and PostgreSQL)."""
    return ResponderWorld(tmp_path, db_url, clock)
