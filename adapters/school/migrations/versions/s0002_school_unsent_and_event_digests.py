"""School adapter: events keyed by person and by UPN as well; why a check answer or a deletion
return could not be sent; a tracked return's confirmed start date and lateness.

Revision ID: s0002
Revises: s0001
"""

import sqlalchemy as sa
from alembic import op

revision = "s0002"
down_revision = "s0001"
branch_labels = None
depends_on = None

DIGEST = sa.String(43)
PROBLEM = sa.String(48)


def upgrade() -> None:
    """Add the columns and the event digests' indexes."""
    op.add_column("school_event", sa.Column("person_key", DIGEST, nullable=True))
    op.add_column("school_event", sa.Column("upn_key", DIGEST, nullable=True))
    op.create_index("ix_school_event_person", "school_event", ["school_id", "person_key"])
    op.create_index("ix_school_event_upn", "school_event", ["school_id", "upn_key"])
    op.add_column("school_deletion", sa.Column("destination_start", sa.Date, nullable=True))
    op.add_column("school_deletion", sa.Column("late", sa.Boolean, nullable=True))
    op.add_column("school_deletion", sa.Column("problem", PROBLEM, nullable=True))
    op.add_column("school_check", sa.Column("problem", PROBLEM, nullable=True))


def downgrade() -> None:
    """Drop them (SQLite: batch mode rebuilds the tables)."""
    with op.batch_alter_table("school_check") as batch:
        batch.drop_column("problem")
    with op.batch_alter_table("school_deletion") as batch:
        for column in ("problem", "late", "destination_start"):
            batch.drop_column(column)
    op.drop_index("ix_school_event_upn", table_name="school_event")
    op.drop_index("ix_school_event_person", table_name="school_event")
    with op.batch_alter_table("school_event") as batch:
        batch.drop_column("upn_key")
        batch.drop_column("person_key")
