"""Database tables of the directory. Separate from the wire models on purpose.

Times are stored timezone-aware (UTC); SQLite gives them back naive, so readers use `as_utc`.
"""

from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlmodel import Field, SQLModel

UtcDateTime = DateTime(timezone=True)


def as_utc(value: datetime) -> datetime:
    """Treat a naive datetime from the database as UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class AgencyRow(SQLModel, table=True):
    """A participant. `status`: active, suspended or revoked."""

    __tablename__ = "agency"

    id: str = Field(primary_key=True, max_length=64)
    kind: str = Field(max_length=20, index=True)
    name: str = Field(max_length=200)
    home_la: str = Field(max_length=3)
    status: str = Field(default="active", max_length=12)
    created_at: datetime = Field(sa_type=UtcDateTime)


class KeyRow(SQLModel, table=True):
    """A public key. `use`: sig or enc. `status`: active or revoked.

    A key verifies (or receives) while not revoked and inside [not_before, not_after]; the
    newest active key of each use is the one that signs (or that senders encrypt to).
    """

    __tablename__ = "agency_key"

    kid: str = Field(primary_key=True, max_length=64)
    agency_id: str = Field(foreign_key="agency.id", index=True, max_length=64)
    use: str = Field(max_length=3)
    public_jwk: str = Field(max_length=1000)
    not_before: datetime = Field(sa_type=UtcDateTime)
    not_after: datetime | None = Field(default=None, sa_type=UtcDateTime)
    status: str = Field(default="active", max_length=12)
    created_at: datetime = Field(sa_type=UtcDateTime)


class SeenMessageRow(SQLModel, table=True):
    """Replay cache: message ids accepted per sender, kept until the message expires."""

    __tablename__ = "seen_message"

    sender: str = Field(primary_key=True, max_length=64)
    message_id: str = Field(primary_key=True, max_length=36)
    expires_at: datetime = Field(sa_type=UtcDateTime, index=True)


class DirectoryRevisionRow(SQLModel, table=True):
    """A counter bumped by every directory change, so caches know when to reload."""

    __tablename__ = "directory_revision"

    id: int = Field(default=1, primary_key=True)
    value: int = Field(default=0)
