"""School adapter: processed events, the roll, held deletions, destination checks received,
the LA's enquiries-complete decisions, imported files.

Revision ID: s0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "s0001"
down_revision = None
branch_labels = None
depends_on = None

UTC_DT = sa.DateTime(timezone=True)
DIGEST = sa.String(43)


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer, primary_key=True)


def _school() -> sa.Column[str]:
    return sa.Column("school_id", sa.String(64), nullable=False)


def upgrade() -> None:
    """Create the adapter's tables and the indexes its lookups use."""
    op.create_table(
        "school_event",
        _id(),
        _school(),
        sa.Column("key", DIGEST, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("outcome", sa.String(24), nullable=False),
        sa.Column("reason", sa.String(48), nullable=False),
        sa.Column("message_id", sa.String(36), nullable=True),
        sa.Column("due_on", sa.Date, nullable=True),
        sa.Column("late", sa.Boolean, nullable=False),
        sa.Column("recorded_at", UTC_DT, nullable=False),
        sa.UniqueConstraint("school_id", "key", name="uq_school_event_key"),
    )
    op.create_table(
        "school_pupil",
        _id(),
        _school(),
        sa.Column("upn_key", DIGEST, nullable=True),
        sa.Column("person_key", DIGEST, nullable=False),
        sa.Column("entry_date", sa.Date, nullable=False),
        sa.Column("left_on", sa.Date, nullable=True),
    )
    op.create_index("ix_school_pupil_upn", "school_pupil", ["school_id", "upn_key"])
    op.create_index("ix_school_pupil_person", "school_pupil", ["school_id", "person_key"])
    _create_deletions()
    _create_checks_and_decisions()
    op.create_table(
        "school_import_file",
        _id(),
        _school(),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("problems", sa.Integer, nullable=False),
        sa.Column("imported_at", UTC_DT, nullable=False),
        sa.UniqueConstraint("school_id", "sha256", name="uq_school_import_file"),
    )


def _create_deletions() -> None:
    op.create_table(
        "school_deletion",
        _id(),
        sa.Column("uid", sa.String(32), nullable=False, unique=True),
        _school(),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("ground", sa.String(8), nullable=False),
        sa.Column("upn_key", DIGEST, nullable=True),
        sa.Column("person_key", DIGEST, nullable=False),
        sa.Column("deletion_date", sa.Date, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("return_message_id", sa.String(36), nullable=True),
        sa.Column("check_message_id", sa.String(36), nullable=True),
        sa.Column("check_to", sa.String(64), nullable=True),
        sa.Column("confirm_by", sa.Date, nullable=True),
        sa.Column("destination_status", sa.String(16), nullable=True),
        sa.Column("destination_confirmed", sa.Boolean, nullable=True),
        sa.Column("case_ref", sa.String(48), nullable=True),
        sa.Column("enquiries_result", sa.String(24), nullable=True),
        sa.Column("created_at", UTC_DT, nullable=False),
        sa.Column("updated_at", UTC_DT, nullable=False),
    )
    op.create_index("ix_school_deletion_state", "school_deletion", ["school_id", "state"])
    op.create_index("ix_school_deletion_check_message_id", "school_deletion", ["check_message_id"])


def _create_checks_and_decisions() -> None:
    op.create_table(
        "school_check",
        _id(),
        _school(),
        sa.Column("from_school", sa.String(64), nullable=False),
        sa.Column("check_message_id", sa.String(36), nullable=False, unique=True),
        sa.Column("upn_key", DIGEST, nullable=True),
        sa.Column("person_key", DIGEST, nullable=False),
        sa.Column("answer_by", sa.Date, nullable=True),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("status", sa.String(16), nullable=True),
        sa.Column("answer_message_id", sa.String(36), nullable=True),
        sa.Column("received_at", UTC_DT, nullable=False),
        sa.Column("answered_at", UTC_DT, nullable=True),
    )
    op.create_index("ix_school_check_state", "school_check", ["school_id", "state"])
    op.create_table(
        "school_la_decision",
        _id(),
        _school(),
        sa.Column("message_id", sa.String(36), nullable=False, unique=True),
        sa.Column("sender", sa.String(64), nullable=False),
        sa.Column("case_ref", sa.String(48), nullable=False),
        sa.Column("result", sa.String(24), nullable=False),
        sa.Column("ground", sa.String(8), nullable=True),
        sa.Column("completed_on", sa.Date, nullable=False),
        sa.Column("deletion_uid", sa.String(32), nullable=True),
        sa.Column("received_at", UTC_DT, nullable=False),
    )
    op.create_index("ix_school_la_decision_school_id", "school_la_decision", ["school_id"])


def downgrade() -> None:
    """Drop them."""
    for table in (
        "school_import_file",
        "school_la_decision",
        "school_check",
        "school_deletion",
        "school_pupil",
        "school_event",
    ):
        op.drop_table(table)
