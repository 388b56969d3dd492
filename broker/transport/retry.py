"""Bounded retries with back-off through the wait queues, then the dead-letter queue."""

from collections.abc import Mapping

import structlog
from aio_pika.abc import AbstractIncomingMessage

from broker.errors import BrokerError
from broker.transport.headers import ATTEMPT_HEADER
from broker.transport.publish import Publisher
from broker.transport.topology import Topology

log = structlog.get_logger(__name__)


def attempt_of(message: AbstractIncomingMessage) -> int:
    """How many times this message has been retried already (0 on first delivery)."""
    value = (message.headers or {}).get(ATTEMPT_HEADER, 0)
    return value if isinstance(value, int) and value >= 0 else 0


async def retry_or_dead_letter(
    message: AbstractIncomingMessage,
    publisher: Publisher,
    topology: Topology,
    queue: str,
    *,
    headers: Mapping[str, str | int] | None = None,
    user_id: str | None = None,
) -> None:
    """Send a copy through the wait queue of the next attempt back to `queue` and ack the
    original; after the last attempt, reject it into the dead-letter queue. If even the
    copy cannot be published, requeue: the queue's delivery limit still bounds the loop."""
    attempt = attempt_of(message) + 1
    if attempt > len(topology.retry_delays_s):
        log.warning("message.dead_lettered", queue=queue, attempts=attempt - 1)
        await message.reject(requeue=False)
        return
    try:
        await publisher.publish(
            topology.retry,
            topology.retry_key(queue, attempt),
            message.body,
            message_id=message.message_id,
            headers={**(headers or {}), ATTEMPT_HEADER: attempt},
            user_id=user_id,
        )
    except BrokerError:
        await message.nack(requeue=True)
        return
    await message.ack()
