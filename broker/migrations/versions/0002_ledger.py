"""Justification ledger: entries and signed checkpoints, append-only by trigger.

Revision ID: 0002
Revises: 0001

The triggers refuse UPDATE and DELETE (and, on PostgreSQL, TRUNCATE) with 'ledger is
append-only'. They stop mistakes and ordinary roles, not a determined DBA: a superuser (or the
tables' owner) can `ALTER TABLE ... DISABLE TRIGGER`, and on SQLite anyone who can write the
file can drop them. That is why entries are hash-chained and the hub signs checkpoints:
`cme-broker ledger verify` shows any change made that way. In production run the broker as a
role that neither owns these tables nor is a superuser, with only SELECT and INSERT on them.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UTC_DT = sa.DateTime(timezone=True)
TABLES = ("ledger_entry", "ledger_checkpoint")
MESSAGE = "ledger is append-only"


def upgrade() -> None:
    """Create the ledger tables and their append-only triggers."""
    op.create_table(
        "ledger_entry",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("recorded_at", UTC_DT, nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("sender", sa.String(64), nullable=False),
        sa.Column("recipient", sa.String(64), nullable=False),
        sa.Column("message_type", sa.String(64), nullable=False),
        sa.Column("schema_version", sa.Integer, nullable=False),
        sa.Column("subject_refs", sa.Text, nullable=False),
        sa.Column("justification", sa.Text, nullable=True),
        sa.Column("jwe_sha256", sa.String(64), nullable=False),
        sa.Column("reason_code", sa.String(64), nullable=True),
        sa.Column("rule", sa.String(200), nullable=True),
        sa.Column("related_message_id", sa.String(64), nullable=True),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("prev_hash", sa.String(43), nullable=False),
        sa.Column("entry_hash", sa.String(43), nullable=False),
    )
    for column in ("recorded_at", "message_id", "sender", "recipient", "related_message_id"):
        op.create_index(f"ix_ledger_entry_{column}", "ledger_entry", [column])
    op.create_table(
        "ledger_checkpoint",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("entry_hash", sa.String(43), nullable=False),
        sa.Column("signed_at", UTC_DT, nullable=False),
        sa.Column("kid", sa.String(64), nullable=False),
        sa.Column("signature", sa.Text, nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_triggers()
    else:
        _sqlite_triggers()


def _postgresql_triggers() -> None:
    op.execute(
        "CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$"
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION ledger_append_only()"
        )
        # Row triggers do not fire on TRUNCATE.
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only()"
        )


def _sqlite_triggers() -> None:
    for table in TABLES:
        for action in ("update", "delete"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action} BEFORE {action.upper()} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
            )


def downgrade() -> None:
    """Drop the ledger (and with it its triggers). Destroys the record: only for development."""
    op.drop_table("ledger_checkpoint")
    op.drop_table("ledger_entry")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION ledger_append_only()")
