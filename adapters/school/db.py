"""The school adapter's schema migrations (the engine itself comes from `broker.db`).

The adapter's Alembic history is its own (`adapters/school/migrations`, version table
`school_alembic_version`), so it shares the endpoint's database with the broker's tables (the
outbox and inbox its agency client uses) without either history seeing the other.
"""

from pathlib import Path
from typing import Any, Final

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

VERSION_TABLE: Final = "school_alembic_version"
TABLE_PREFIX: Final = "school_"


def _named(name: str | None, type_: str, _parents: object) -> bool:
    return type_ != "table" or bool(name and name.startswith(TABLE_PREFIX))


def _object(_obj: object, name: str | None, type_: str, _reflected: bool, _other: object) -> bool:
    return _named(name, type_, None)


def autogenerate_filters() -> dict[str, Any]:
    """Alembic options that keep comparisons to the adapter's tables: in a shared database
    the broker's tables are another history's business."""
    return {"include_name": _named, "include_object": _object}


def migrate_school(engine: Engine) -> None:
    """Bring the adapter's tables to the newest revision (idempotent)."""
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
