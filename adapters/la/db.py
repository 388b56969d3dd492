"""The desk's schema migrations (the engine itself comes from `broker.db.make_engine`).

The desk's Alembic history is its own (`adapters/la/migrations`, version table
`desk_alembic_version`), so it can share a database with the broker's endpoint tables (the
outbox and inbox the desk's agency client uses) without either history seeing the other.
"""

from pathlib import Path
from typing import Any, Final

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from broker.db import make_engine

__all__ = ["VERSION_TABLE", "autogenerate_filters", "make_engine", "migrate_desk"]

VERSION_TABLE: Final = "desk_alembic_version"
TABLE_PREFIX: Final = "desk_"


def _named(name: str | None, type_: str, _parents: object) -> bool:
    return type_ != "table" or bool(name and name.startswith(TABLE_PREFIX))


def _object(_obj: object, name: str | None, type_: str, _reflected: bool, _other: object) -> bool:
    return _named(name, type_, None)


def autogenerate_filters() -> dict[str, Any]:
    """Alembic options that keep comparisons to the desk's tables: in a shared database the
    broker's tables are another history's business."""
    return {"include_name": _named, "include_object": _object}


def migrate_desk(engine: Engine) -> None:
    """Bring the desk's tables to the newest revision (idempotent)."""
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
