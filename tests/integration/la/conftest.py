"""Fixtures of the desk's integration tests: a database of each kind (the shared `db_url`)
migrated with the broker's and the desk's histories side by side, and a register on it."""

import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from adapters.la.db import make_engine, migrate_desk
from adapters.la.protect import BlindIndex, FieldCipher, Protector
from adapters.la.register import CaseRegister, RegisterConfig
from broker.db import migrate
from tests.clock import Clock


@pytest.fixture
def desk_engine(db_url: str) -> Iterator[Engine]:
    """The fresh database with the broker's tables and the desk's."""
    engine = make_engine(db_url)
    migrate(engine)
    migrate_desk(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def protector() -> Protector:
    """Random keys for each test."""
    cipher = FieldCipher("t1", {"t1": secrets.token_bytes(32)})
    return Protector(cipher, BlindIndex(secrets.token_bytes(32)))


@pytest.fixture
def register(desk_engine: Engine, protector: Protector, clock: Clock) -> CaseRegister:
    """A register for LA 330 on the hand clock."""
    return CaseRegister(desk_engine, protector, RegisterConfig(la_code="330"), clock)
