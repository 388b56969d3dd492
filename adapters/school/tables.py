"""The school adapter's own tables (prefixed `school_`), on a metadata of their own.

They live in the endpoint's database, beside the agency client's outbox and inbox, so that
"record the event + stage its return" and "file an answer + stage the reply" each commit in one
transaction. Every row is keyed by the school, so one database can serve several schools (a
trust's adapter, or the tests' two schools).

Nothing here identifies a pupil in clear: pupils are keyed digests (`protect.PupilKeys`), and
the one payload kept (a leaver's deletion return, until it has gone and the deletion is final)
is an AES-GCM token. Codes, dates, agency ids and message ids stay in clear: the adapter
filters and reports on them.

Times are stored timezone-aware (UTC); SQLite gives them back naive: read through `as_utc`.
"""

from datetime import date, datetime

from sqlalchemy import Index, Text, UniqueConstraint
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from broker.directory.tables import UtcDateTime


class SchoolTable(SQLModel, registry=registry()):
    """Base of the adapter's tables: a metadata of their own, so neither the broker's
    migrations nor another adapter's ever see them."""


class EventRow(SchoolTable, table=True):
    """An admission-register event processed once: `key` is its idempotency digest;
    `person_key` and `upn_key` the same event keyed by the pupil's names and date of birth,
    and by their UPN (`store.event_seen` matches on either)."""

    __tablename__ = "school_event"
    __table_args__ = (
        UniqueConstraint("school_id", "key", name="uq_school_event_key"),
        Index("ix_school_event_person", "school_id", "person_key"),
        Index("ix_school_event_upn", "school_id", "upn_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    school_id: str = Field(max_length=64)
    key: str = Field(max_length=43)
    person_key: str | None = Field(default=None, max_length=43)
    upn_key: str | None = Field(default=None, max_length=43)
    kind: str = Field(max_length=20)
    outcome: str = Field(max_length=24)
    reason: str = Field(max_length=48)
    message_id: str | None = Field(default=None, max_length=36)
    due_on: date | None = None
    late: bool = False
    recorded_at: datetime = Field(sa_type=UtcDateTime)


class PupilRow(SchoolTable, table=True):
    """A pupil on this school's roll, as the adapter learnt it from new pupil events: what a
    destination check from another school is answered from."""

    __tablename__ = "school_pupil"
    __table_args__ = (
        Index("ix_school_pupil_upn", "school_id", "upn_key"),
        Index("ix_school_pupil_person", "school_id", "person_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    school_id: str = Field(max_length=64)
    upn_key: str | None = Field(default=None, max_length=43)
    person_key: str = Field(max_length=43)
    entry_date: date
    left_on: date | None = None


class DeletionRow(SchoolTable, table=True):
    """A leaver whose deletion is not simply done: waiting for the new school's answer, or
    held for the LA's joint enquiries (reg 9(1)(h)/(i)), and what became of it."""

    __tablename__ = "school_deletion"
    __table_args__ = (Index("ix_school_deletion_state", "school_id", "state"),)

    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(max_length=32, unique=True)
    school_id: str = Field(max_length=64)
    state: str = Field(max_length=24)
    ground: str = Field(max_length=8)
    upn_key: str | None = Field(default=None, max_length=43)
    person_key: str = Field(max_length=43)
    deletion_date: date
    payload: str = Field(sa_type=Text)  # sealed DeletionReturnV2 JSON
    return_message_id: str | None = Field(default=None, max_length=36)
    check_message_id: str | None = Field(default=None, max_length=36, index=True)
    check_to: str | None = Field(default=None, max_length=64)
    confirm_by: date | None = None
    destination_status: str | None = Field(default=None, max_length=16)
    destination_confirmed: bool | None = None
    destination_start: date | None = None
    """The start date the new school confirmed (kept for a return sent again)."""
    late: bool | None = None
    """Whether the return went after the deletion date (set when it goes)."""
    problem: str | None = Field(default=None, max_length=48)
    """Why the return could not be sent (a reason code), while it is `return_unsent`."""
    case_ref: str | None = Field(default=None, max_length=48)
    enquiries_result: str | None = Field(default=None, max_length=24)
    created_at: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(sa_type=UtcDateTime)


class CheckRow(SchoolTable, table=True):
    """A destination check another school sent this one, kept open while the pupil may still
    join (an expected start date in the future), and the answer given."""

    __tablename__ = "school_check"
    __table_args__ = (Index("ix_school_check_state", "school_id", "state"),)

    id: int | None = Field(default=None, primary_key=True)
    school_id: str = Field(max_length=64)
    from_school: str = Field(max_length=64)
    check_message_id: str = Field(max_length=36, unique=True)
    upn_key: str | None = Field(default=None, max_length=43)
    person_key: str = Field(max_length=43)
    answer_by: date | None = None
    state: str = Field(max_length=12)
    status: str | None = Field(default=None, max_length=16)
    answer_message_id: str | None = Field(default=None, max_length=36)
    problem: str | None = Field(default=None, max_length=48)
    """Why the answer could not be sent (a reason code), when `unanswerable`."""
    received_at: datetime = Field(sa_type=UtcDateTime)
    answered_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class LaDecisionRow(SchoolTable, table=True):
    """A `cme.enquiries_complete` from the LA, and the held deletion it applied to."""

    __tablename__ = "school_la_decision"

    id: int | None = Field(default=None, primary_key=True)
    school_id: str = Field(max_length=64, index=True)
    message_id: str = Field(max_length=36, unique=True)
    sender: str = Field(max_length=64)
    case_ref: str = Field(max_length=48)
    result: str = Field(max_length=24)
    ground: str | None = Field(default=None, max_length=8)
    completed_on: date
    deletion_uid: str | None = Field(default=None, max_length=32)
    received_at: datetime = Field(sa_type=UtcDateTime)


class ImportFileRow(SchoolTable, table=True):
    """An export file imported (by content digest): `watch` skips a file it has seen."""

    __tablename__ = "school_import_file"
    __table_args__ = (UniqueConstraint("school_id", "sha256", name="uq_school_import_file"),)

    id: int | None = Field(default=None, primary_key=True)
    school_id: str = Field(max_length=64)
    sha256: str = Field(max_length=64)
    size: int
    rows: int
    problems: int
    imported_at: datetime = Field(sa_type=UtcDateTime)
