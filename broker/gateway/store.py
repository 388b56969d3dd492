"""The gateway's database side: the outbox of submitted envelopes and the agencies'
mailboxes. Synchronous (SQLAlchemy); the HTTP layer calls it from a worker thread."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Engine, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select, update

from broker.clock import Clock, utc_now
from broker.gateway.errors import Conflict
from broker.gateway.tables import GatewayOutboxRow, MailboxRow

Status = Literal["new", "queued", "published"]


@dataclass(frozen=True)
class Staged:
    """An outbox row and what had become of it when the envelope was (re)submitted."""

    row_id: int
    status: Status


@dataclass(frozen=True)
class Delivery:
    """A message taken off an agency's queue (the hub already verified its outer layer)."""

    message_id: str
    sender: str
    message_type: str
    wire: str


class GatewayStore:
    """Outbox and mailboxes in the hub's database."""

    def __init__(self, engine: Engine, clock: Clock = utc_now) -> None:
        self._engine = engine
        self._clock = clock

    # -- the outbox ------------------------------------------------------------------------

    def stage(self, sender: str, message_id: str, wire: str) -> Staged:
        """Store a submitted envelope. Submitting the same envelope again is harmless (it
        says what became of the first); another envelope under a used id is a `Conflict`."""
        try:
            return self._stage(sender, message_id, wire)
        except IntegrityError:  # the same envelope submitted twice at once: the other won
            return self._stage(sender, message_id, wire)

    def _stage(self, sender: str, message_id: str, wire: str) -> Staged:
        with Session(self._engine) as session:
            existing = session.exec(
                select(GatewayOutboxRow).where(
                    GatewayOutboxRow.sender == sender, GatewayOutboxRow.message_id == message_id
                )
            ).first()
            if existing is not None and existing.id is not None:
                if existing.wire != wire:
                    raise Conflict("this message id was already used for another envelope")
                status: Status = "queued" if existing.published_at is None else "published"
                return Staged(existing.id, status)
            row = GatewayOutboxRow(
                sender=sender, message_id=message_id, wire=wire, created_at=self._clock()
            )
            session.add(row)
            session.commit()
            assert row.id is not None
            return Staged(row.id, "new")

    def unpublished(self, created_before: datetime, limit: int = 100) -> list[GatewayOutboxRow]:
        """The oldest envelopes not yet confirmed by RabbitMQ, staged before `created_before`
        (younger ones are still being published by the request that staged them)."""
        with Session(self._engine) as session:
            query = (
                select(GatewayOutboxRow)
                .where(
                    col(GatewayOutboxRow.published_at).is_(None),
                    col(GatewayOutboxRow.created_at) < created_before,
                )
                .order_by(col(GatewayOutboxRow.id))
                .limit(limit)
            )
            return list(session.exec(query).all())

    def mark_published(self, row_ids: Sequence[int]) -> None:
        """Record RabbitMQ's confirms."""
        if not row_ids:
            return
        with Session(self._engine) as session:
            session.execute(
                update(GatewayOutboxRow)
                .where(col(GatewayOutboxRow.id).in_(row_ids))
                .values(published_at=self._clock())
            )
            session.commit()

    # -- the mailboxes ---------------------------------------------------------------------

    def deposit(self, agency_id: str, deliveries: Sequence[Delivery]) -> None:
        """Keep deliveries in the agency's mailbox; one already there (a redelivery, or a
        copy another poll took at the same moment) is left as it is. Commits before the
        caller acks them on RabbitMQ."""
        if not deliveries:
            return
        now = self._clock()
        rows = [
            {
                "agency_id": agency_id,
                "sender": one.sender,
                "message_id": one.message_id,
                "message_type": one.message_type,
                "wire": one.wire,
                "received_at": now,
            }
            for one in deliveries
        ]
        with Session(self._engine) as session:
            session.execute(_insert_new(self._engine, rows))
            session.commit()

    def pending(
        self, agency_id: str, limit: int, message_type: str | None = None
    ) -> list[MailboxRow]:
        """The agency's unacknowledged messages, in the order they were taken."""
        with Session(self._engine) as session:
            query = select(MailboxRow).where(
                MailboxRow.agency_id == agency_id, col(MailboxRow.acked_at).is_(None)
            )
            if message_type is not None:
                query = query.where(MailboxRow.message_type == message_type)
            return list(session.exec(query.order_by(col(MailboxRow.id)).limit(limit)).all())

    def unacknowledged(self, agency_id: str) -> int:
        """How many messages the agency has not acknowledged yet."""
        with Session(self._engine) as session:
            query = select(func.count()).where(
                MailboxRow.agency_id == agency_id, col(MailboxRow.acked_at).is_(None)
            )
            return int(session.exec(query).one())

    def acknowledge(self, agency_id: str, message_id: str) -> bool:
        """Mark a message as taken; its envelope is dropped from the gateway. False when the
        agency has no such message (never another agency's)."""
        mine = (col(MailboxRow.agency_id) == agency_id, col(MailboxRow.message_id) == message_id)
        with Session(self._engine) as session:
            if session.exec(select(func.count()).where(*mine)).one() == 0:
                return False
            session.execute(
                update(MailboxRow)
                .where(*mine, col(MailboxRow.acked_at).is_(None))
                .values(acked_at=self._clock(), wire=None)
            )
            session.commit()
        return True

    def purge(self, before: datetime) -> int:
        """Forget published envelopes and acknowledged messages older than `before` (by then
        the hub would refuse or ignore them anyway): the gateway keeps no more than it must."""
        with Session(self._engine) as session:
            connection = session.connection()
            outbox = connection.execute(
                delete(GatewayOutboxRow).where(col(GatewayOutboxRow.published_at) < before)
            )
            mailbox = connection.execute(
                delete(MailboxRow).where(col(MailboxRow.acked_at) < before)
            )
            session.commit()
            return int(outbox.rowcount) + int(mailbox.rowcount)


def _insert_new(engine: Engine, rows: list[dict[str, Any]]) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING, in the engine's dialect."""
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    return dialect.insert(MailboxRow).values(rows).on_conflict_do_nothing()
