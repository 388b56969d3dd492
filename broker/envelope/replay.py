"""Replay protection: remember (sender, message id) for as long as the message is acceptable."""

from datetime import datetime
from typing import Protocol

from sqlalchemy import Engine, delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from broker.clock import Clock
from broker.directory.tables import SeenMessageRow


class ReplayCache(Protocol):
    """Records message ids; `remember` is atomic so concurrent consumers agree."""

    def remember(self, sender: str, message_id: str, expires_at: datetime) -> bool:
        """Record the id; False when it was already recorded (a replay)."""
        ...


class SqlReplayCache:
    """Replay cache in the database: the primary key makes `remember` atomic across
    processes (router replicas, endpoint workers)."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    def remember(self, sender: str, message_id: str, expires_at: datetime) -> bool:
        """Insert the id; a primary-key clash means it was seen before."""
        with Session(self._engine) as session:
            session.add(SeenMessageRow(sender=sender, message_id=message_id, expires_at=expires_at))
            try:
                session.commit()
            except IntegrityError:
                return False
        return True

    def purge_expired(self) -> int:
        """Forget ids whose messages can no longer be accepted anyway."""
        with Session(self._engine) as session:
            expired = col(SeenMessageRow.expires_at) < self._clock()
            result = session.connection().execute(delete(SeenMessageRow).where(expired))
            session.commit()
            return int(result.rowcount)


class MemoryReplayCache:
    """Replay cache for one process (an adapter's worker, the benchmark). Expired ids are
    dropped as new ones arrive, so memory stays bounded by the acceptance window."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._seen: dict[tuple[str, str], datetime] = {}

    def remember(self, sender: str, message_id: str, expires_at: datetime) -> bool:
        """Record the id; False on a replay."""
        key = (sender, message_id)
        if key in self._seen:
            return False
        if len(self._seen) % 1024 == 0:
            now = self._clock()
            self._seen = {k: v for k, v in self._seen.items() if v >= now}
        self._seen[key] = expires_at
        return True
