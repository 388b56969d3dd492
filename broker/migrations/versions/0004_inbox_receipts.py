"""Inbox rows remember which messages still await their (batched) receipt.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the receipt-due flag and the agreement the receipt falls under."""
    with op.batch_alter_table("inbox_message") as table:
        table.add_column(
            sa.Column("receipt_due", sa.Boolean, nullable=False, server_default=sa.false())
        )
        table.add_column(sa.Column("agreement_id", sa.String(80), nullable=True))
        table.add_column(sa.Column("agreement_version", sa.Integer, nullable=True))
    op.create_index("ix_inbox_message_receipt_due", "inbox_message", ["agency_id", "receipt_due"])


def downgrade() -> None:
    """Drop them."""
    op.drop_index("ix_inbox_message_receipt_due", "inbox_message")
    with op.batch_alter_table("inbox_message") as table:
        table.drop_column("agreement_version")
        table.drop_column("agreement_id")
        table.drop_column("receipt_due")
