"""Desk: cases, their children and blind indexes, enquiries, timeline, possible duplicates,
school attendance order steps.

Revision ID: d0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "d0001"
down_revision = None
branch_labels = None
depends_on = None

UTC_DT = sa.DateTime(timezone=True)


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer, primary_key=True)


def _case_fk(name: str = "case_id", *, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(name, sa.Integer, sa.ForeignKey("desk_case.id"), nullable=nullable)


def upgrade() -> None:
    """Create the desk's tables and the indexes its lookups use."""
    op.create_table(
        "desk_case",
        _id(),
        sa.Column("case_ref", sa.String(48), nullable=False, unique=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("trigger", sa.String(24), nullable=False),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("risk_flags", sa.JSON, nullable=False),
        sa.Column("priority", sa.String(8), nullable=False),
        sa.Column("owner", sa.String(64), nullable=True),
        sa.Column("opened_at", UTC_DT, nullable=False),
        sa.Column("opened_by", sa.String(64), nullable=False),
        sa.Column("closed_at", UTC_DT, nullable=True),
        sa.Column("closed_by", sa.String(64), nullable=True),
        sa.Column("closure_outcome", sa.String(40), nullable=True),
        sa.Column("closure_evidence", sa.Text, nullable=True),
    )
    op.create_index("ix_desk_case_state_priority", "desk_case", ["state", "priority"])
    op.create_index("ix_desk_case_owner", "desk_case", ["owner"])
    op.create_index("ix_desk_case_opened_at", "desk_case", ["opened_at"])
    op.create_table(
        "desk_case_counter",
        sa.Column("scope", sa.String(16), primary_key=True),
        sa.Column("value", sa.Integer, nullable=False),
    )
    op.create_table(
        "desk_case_child",
        _id(),
        sa.Column("uid", sa.String(32), nullable=False, unique=True),
        _case_fk(),
        sa.Column("identity", sa.Text, nullable=False),
        sa.Column("recorded_at", UTC_DT, nullable=False),
        sa.Column("message_id", sa.String(36), nullable=True),
    )
    op.create_index("ix_desk_case_child_case_id", "desk_case_child", ["case_id"])
    op.create_table(
        "desk_child_key",
        _id(),
        sa.Column("child_id", sa.Integer, sa.ForeignKey("desk_case_child.id"), nullable=False),
        _case_fk(),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("digest", sa.String(43), nullable=False),
    )
    op.create_index("ix_desk_child_key_digest", "desk_child_key", ["digest"])
    op.create_index("ix_desk_child_key_child_id", "desk_child_key", ["child_id"])
    op.create_index("ix_desk_child_key_case_id", "desk_child_key", ["case_id"])
    _create_work_tables()


def _create_work_tables() -> None:
    op.create_table(
        "desk_enquiry",
        _id(),
        sa.Column("uid", sa.String(32), nullable=False, unique=True),
        _case_fk(),
        sa.Column("target", sa.String(20), nullable=False),
        sa.Column("agency_id", sa.String(64), nullable=False),
        sa.Column("message_id", sa.String(36), nullable=True),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("created_at", UTC_DT, nullable=False),
        sa.Column("sent_at", UTC_DT, nullable=True),
        sa.Column("respond_by", sa.Date, nullable=True),
        sa.Column("answered_at", UTC_DT, nullable=True),
        sa.Column("outcome", sa.String(40), nullable=True),
        sa.Column("evidence", sa.Text, nullable=True),
    )
    op.create_index("ix_desk_enquiry_case_id", "desk_enquiry", ["case_id"])
    op.create_index("ix_desk_enquiry_message_id", "desk_enquiry", ["message_id"])
    op.create_index("ix_desk_enquiry_state_respond_by", "desk_enquiry", ["state", "respond_by"])
    op.create_table(
        "desk_event",
        _id(),
        sa.Column("uid", sa.String(32), nullable=False, unique=True),
        _case_fk(),
        sa.Column("at", UTC_DT, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("why", sa.Text, nullable=True),
        sa.Column("evidence", sa.Text, nullable=True),
        sa.Column("message_id", sa.String(36), nullable=True),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    op.create_index("ix_desk_event_case_at", "desk_event", ["case_id", "at", "id"])
    op.create_table(
        "desk_possible_duplicate",
        _id(),
        sa.Column("uid", sa.String(32), nullable=False, unique=True),
        _case_fk("existing_case_id"),
        sa.Column("candidate", sa.Text, nullable=False),
        sa.Column("opening", sa.JSON, nullable=False),
        sa.Column("why", sa.Text, nullable=True),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("created_at", UTC_DT, nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("decided_at", UTC_DT, nullable=True),
        sa.Column("decision_why", sa.Text, nullable=True),
        _case_fk("resulting_case_id", nullable=True),
    )
    op.create_index("ix_desk_possible_duplicate_state", "desk_possible_duplicate", ["state"])
    op.create_index(
        "ix_desk_possible_duplicate_existing_case_id",
        "desk_possible_duplicate",
        ["existing_case_id"],
    )
    op.create_table(
        "desk_sao_step",
        _id(),
        _case_fk(),
        sa.Column("step", sa.String(24), nullable=False),
        sa.Column("served_on", sa.Date, nullable=False),
        sa.Column("deadline", sa.Date, nullable=True),
        sa.Column("recorded_at", UTC_DT, nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
    )
    op.create_index("ix_desk_sao_step_case_id", "desk_sao_step", ["case_id"])


def downgrade() -> None:
    """Drop them, dependants first."""
    for table in (
        "desk_sao_step",
        "desk_possible_duplicate",
        "desk_event",
        "desk_enquiry",
        "desk_child_key",
        "desk_case_child",
        "desk_case_counter",
        "desk_case",
    ):
        op.drop_table(table)
