"""What RabbitMQ says about a dead letter (its `x-death` headers), as plain metadata."""

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from broker.transport.headers import ATTEMPT_HEADER, REASON_HEADER

if TYPE_CHECKING:  # the router's core uses `DeadLetter` without any AMQP code
    from aio_pika.abc import AbstractIncomingMessage


@dataclass(frozen=True)
class DeadLetter:
    """What is shown of one dead letter: metadata only, never the body."""

    message_id: str
    origin_queue: str
    reason: str
    cme_reason: str | None
    deaths: int
    retries: int
    dead_lettered_at: datetime | None

    @property
    def summary(self) -> str:
        """This death in words, distinct from any other of the same message: RabbitMQ gives
        each one its own time (a replayed copy starts a fresh `x-death`, count 1 again)."""
        when = f"at {self.dead_lettered_at:%Y-%m-%dT%H:%M:%SZ}" if self.dead_lettered_at else ""
        return " ".join(x for x in (self.origin_queue, self.reason, when, f"#{self.deaths}") if x)


def describe(message: "AbstractIncomingMessage") -> DeadLetter:
    """A dead letter's metadata from RabbitMQ's `x-death` (newest first: its first entry is
    the death that put it here) and the broker's own headers."""
    headers = message.headers or {}
    death = last_death(headers)
    retries = headers.get(ATTEMPT_HEADER)
    time = death.get("time")
    return DeadLetter(
        message_id=message.message_id or "-",
        origin_queue=_first_text(death.get("queue"), headers.get("x-first-death-queue")),
        reason=_first_text(death.get("reason"), headers.get("x-first-death-reason")),
        cme_reason=header_text(headers.get(REASON_HEADER)),
        deaths=_int(death.get("count")),
        retries=_int(retries),
        dead_lettered_at=time if isinstance(time, datetime) else None,
    )


def last_death(headers: dict[str, Any]) -> dict[str, Any]:
    """The newest `x-death` entry (the death that put the message where it is), or {}."""
    deaths = headers.get("x-death")
    if isinstance(deaths, list) and deaths and isinstance(deaths[0], dict):
        return deaths[0]
    return {}


def header_text(value: object) -> str | None:
    """A header value as text (AMQP tables carry strings as bytes), or None."""
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return value if isinstance(value, str) and value else None


def _first_text(*values: object) -> str:
    return next((t for v in values if (t := header_text(v))), "-")


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
