"""The HTTPS gateway's outbox and mailboxes.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UTC_DT = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the gateway's tables."""
    op.create_table(
        "gateway_outbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sender", sa.String(64), nullable=False),
        sa.Column("message_id", sa.String(36), nullable=False),
        sa.Column("wire", sa.Text, nullable=False),
        sa.Column("created_at", UTC_DT, nullable=False),
        sa.Column("published_at", UTC_DT, nullable=True),
        sa.UniqueConstraint("sender", "message_id", name="uq_gateway_outbox_message"),
    )
    op.create_index("ix_gateway_outbox_published_at", "gateway_outbox", ["published_at"])
    op.create_table(
        "gateway_mailbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("agency_id", sa.String(64), nullable=False),
        sa.Column("sender", sa.String(64), nullable=False),
        sa.Column("message_id", sa.String(36), nullable=False),
        sa.Column("message_type", sa.String(64), nullable=False),
        sa.Column("wire", sa.Text, nullable=True),
        sa.Column("received_at", UTC_DT, nullable=False),
        sa.Column("acked_at", UTC_DT, nullable=True),
        sa.UniqueConstraint("agency_id", "sender", "message_id", name="uq_gateway_mailbox_message"),
    )
    op.create_index("ix_gateway_mailbox_pending", "gateway_mailbox", ["agency_id", "acked_at"])
    op.create_index("ix_gateway_mailbox_acked_at", "gateway_mailbox", ["acked_at"])


def downgrade() -> None:
    """Drop them."""
    op.drop_index("ix_gateway_mailbox_acked_at", "gateway_mailbox")
    op.drop_index("ix_gateway_mailbox_pending", "gateway_mailbox")
    op.drop_table("gateway_mailbox")
    op.drop_index("ix_gateway_outbox_published_at", "gateway_outbox")
    op.drop_table("gateway_outbox")
