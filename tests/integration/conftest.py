"""Fixtures shared by the integration tests: a fresh database of each kind, a hand clock."""

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import Engine

from broker.db import make_engine, migrate
from tests.clock import Clock
from tests.services import with_database


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database of each kind."""
    yield from fresh_database(request, request.param, tmp_path / "test.db")


def fresh_database(request: pytest.FixtureRequest, kind: str, sqlite_file: Path) -> Iterator[str]:
    """A fresh database of `kind` ("sqlite": `sqlite_file`; "postgres": a throwaway database
    on the test server, dropped afterwards)."""
    if kind == "sqlite":
        yield f"sqlite:///{sqlite_file}"
        return
    server = request.getfixturevalue("postgres_server_url")
    name = f"cme_it_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield with_database(server, name)
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """The fresh database, migrated."""
    engine = make_engine(db_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> Clock:
    """A clock the test moves by hand."""
    return Clock()
