"""Endpoint outbox and inbox.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UTC_DT = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the outbox and the inbox."""
    op.create_table(
        "outbox_message",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("agency_id", sa.String(64), nullable=False),
        sa.Column("message_id", sa.String(36), nullable=False, unique=True),
        sa.Column("recipient", sa.String(64), nullable=False),
        sa.Column("message_type", sa.String(64), nullable=False),
        sa.Column("wire", sa.Text, nullable=False),
        sa.Column("created_at", UTC_DT, nullable=False),
        sa.Column("published_at", UTC_DT, nullable=True),
        sa.Column("receipt_outcome", sa.String(12), nullable=True),
        sa.Column("receipt_reason", sa.String(64), nullable=True),
        sa.Column("receipt_at", UTC_DT, nullable=True),
    )
    op.create_index("ix_outbox_message_agency_id", "outbox_message", ["agency_id"])
    op.create_index("ix_outbox_message_published_at", "outbox_message", ["published_at"])
    op.create_table(
        "inbox_message",
        sa.Column("agency_id", sa.String(64), primary_key=True),
        sa.Column("sender", sa.String(64), primary_key=True),
        sa.Column("message_id", sa.String(36), primary_key=True),
        sa.Column("message_type", sa.String(64), nullable=False),
        sa.Column("jwe_sha256", sa.String(43), nullable=False),
        sa.Column("received_at", UTC_DT, nullable=False),
    )


def downgrade() -> None:
    """Drop them."""
    op.drop_table("inbox_message")
    op.drop_table("outbox_message")
