"""The responders' work list (health, housing, children's social care).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UTC_DT = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the work list."""
    op.create_table(
        "responder_work_item",
        sa.Column("id", sa.String(24), primary_key=True),
        sa.Column("agency_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("sender", sa.String(64), nullable=False),
        sa.Column("message_id", sa.String(36), nullable=False),
        sa.Column("message_type", sa.String(64), nullable=False),
        sa.Column("schema_version", sa.Integer, nullable=False),
        sa.Column("correlation_id", sa.String(36), nullable=True),
        sa.Column("case_ref", sa.String(48), nullable=True),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("same_day", sa.Boolean, nullable=False),
        sa.Column("respond_by", sa.Date, nullable=True),
        sa.Column("received_at", UTC_DT, nullable=False),
        sa.Column("payload", sa.Text, nullable=True),
        sa.Column("closed_at", UTC_DT, nullable=True),
        sa.Column("closed_by", sa.String(80), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("response_message_id", sa.String(36), nullable=True),
        sa.UniqueConstraint(
            "agency_id", "sender", "message_id", "kind", name="uq_responder_work_item_message"
        ),
    )
    op.create_index(
        "ix_responder_work_item_agency_state", "responder_work_item", ["agency_id", "state"]
    )


def downgrade() -> None:
    """Drop it."""
    op.drop_index("ix_responder_work_item_agency_state", "responder_work_item")
    op.drop_table("responder_work_item")
