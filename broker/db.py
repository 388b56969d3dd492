"""Database engine and migrations (SQLite by default, PostgreSQL by URL)."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, event, text
from sqlmodel import create_engine

MIGRATION_LOCK = 0x434D45_0001
"""PostgreSQL advisory lock key held while migrating ("CME" + 1)."""


def normalise_url(url: str) -> str:
    """Use the psycopg 3 driver for plain `postgresql://` URLs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str) -> Engine:
    """An engine for the URL; SQLite gets foreign keys on and a busy timeout."""
    url = normalise_url(url)
    # hide_parameters: a database error's text must not carry the row it was writing.
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        url,
        pool_pre_ping=True,
        hide_parameters=True,
        pool_timeout=10,
        connect_args={"connect_timeout": 10},  # an unreachable server fails, not hangs
    )


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (idempotent)."""
    script_location = str(Path(__file__).parent / "migrations")
    config = Config()
    config.set_main_option("script_location", script_location)
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Router replicas, the gateway and a set-up job may all start at once on a new
            # database: one migrates, the others wait here and then find nothing to do.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
