"""Directory: agencies, keys, replay cache, revision counter.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UTC_DT = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the directory tables."""
    op.create_table(
        "agency",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("home_la", sa.String(3), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("created_at", UTC_DT, nullable=False),
    )
    op.create_index("ix_agency_kind", "agency", ["kind"])
    op.create_table(
        "agency_key",
        sa.Column("kid", sa.String(64), primary_key=True),
        sa.Column("agency_id", sa.String(64), sa.ForeignKey("agency.id"), nullable=False),
        sa.Column("use", sa.String(3), nullable=False),
        sa.Column("public_jwk", sa.String(1000), nullable=False),
        sa.Column("not_before", UTC_DT, nullable=False),
        sa.Column("not_after", UTC_DT, nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("created_at", UTC_DT, nullable=False),
    )
    op.create_index("ix_agency_key_agency_id", "agency_key", ["agency_id"])
    op.create_table(
        "seen_message",
        sa.Column("sender", sa.String(64), primary_key=True),
        sa.Column("message_id", sa.String(36), primary_key=True),
        sa.Column("expires_at", UTC_DT, nullable=False),
    )
    op.create_index("ix_seen_message_expires_at", "seen_message", ["expires_at"])
    revision_table = op.create_table(
        "directory_revision",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("value", sa.Integer, nullable=False),
    )
    op.bulk_insert(revision_table, [{"id": 1, "value": 0}])


def downgrade() -> None:
    """Drop the directory tables."""
    op.drop_table("directory_revision")
    op.drop_table("seen_message")
    op.drop_table("agency_key")
    op.drop_table("agency")
