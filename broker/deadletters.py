"""Dead letters: look at dead-lettered messages, and replay them after a fix.

A message is dead-lettered when its consumer gave up on it: the router after its bounded
retries (`broker.transport.retry`), an agency's inbox after the queue's delivery limit. It
waits in `<queue>.dlq` until someone looks. After the cause is fixed (a bug, a missing key, an
agreement), `replay` sends it back through the wait queue of a first retry, so it arrives at
its queue exactly as a router retry does, with its full retries again.

Reading never loses a dead letter, nor reorders the queue: its messages are taken by a
consumer with manual acknowledgement, all of them (up to `MAX_HELD`), held unacknowledged so
none is seen twice, then given back with `basic.nack(requeue=True)` in the order they came.
Taking them all matters: RabbitMQ 3.x quorum queues put a returned message at the back of the
queue, so giving back the whole queue in order leaves it as it was, where giving back only the
first few would move them behind the rest. (A message dead-lettered while the queue is being
read lands before the returned ones.) A queue holding more than `MAX_HELD` is counted but not
read. Dead-letter queues have no delivery limit, so a message read many times is never
dropped; on RabbitMQ 4.0 to 4.2, whose quorum queues default to a delivery limit of 20 that
counts every return, give the `.dlq` queues an unlimited delivery limit by policy.

A replayed message is acknowledged in the dead-letter queue only after its copy was
confirmed; a copy that fails leaves it in the dead-letter queue (at the back on RabbitMQ 3.x).

Nothing of a payload is ever shown: ids, queues, reasons, counts and times only.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass

import aio_pika
import aiormq
import structlog
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractIncomingMessage, AbstractQueue

from broker.errors import BrokerError
from broker.transport.deaths import DeadLetter, describe, header_text, last_death
from broker.transport.headers import ATTEMPT_HEADER, PUBLISHER_HEADER
from broker.transport.publish import CHANNEL_GONE, Publisher
from broker.transport.topology import Topology

log = structlog.get_logger(__name__)
APP_HEADER_PREFIX = "x-cme-"
MAX_HELD = 2000
"""Most messages held unacknowledged at once (a dead letter is at most 256 KiB: bounded
memory)."""
TAKE_TIMEOUT_S = 5.0
"""How long to wait for the messages a queue said it holds (another reader may hold some)."""


@dataclass(frozen=True)
class Listing:
    """One dead-letter queue: how many it holds (None: no such queue) and the first few
    (none when it holds more than `MAX_HELD`: reading them would reorder the queue)."""

    queue: str
    count: int | None
    letters: list[DeadLetter]


@dataclass
class ReplayOutcome:
    """What `replay` did: ids replayed, ids whose copy failed (left in the dead-letter
    queue), ids asked for and not found among the messages looked at, and how many messages
    were beyond the limit (not looked at)."""

    replayed: list[str]
    failed: list[str]
    not_found: list[str]
    remaining: int


class NoSuchQueue(BrokerError):
    """A queue that is not one of this hub's work queues."""

    reason = "unknown_queue"


def resolve_queue(topology: Topology, agencies: list[str], name: str) -> str:
    """A work queue of this hub from its name, its dead-letter queue's name, `router`, or an
    agency id. Anything else is refused: replay publishes only to this hub's own queues."""
    work = topology.work_queues(agencies)
    candidate = name.removesuffix(".dlq")
    if candidate == "router":
        candidate = topology.router_queue
    elif ":" in candidate and candidate in agencies:
        candidate = topology.agency_queue(candidate)
    if candidate not in work:
        raise NoSuchQueue(f"not a work queue of this hub: {name}")
    return candidate


# -- reading --------------------------------------------------------------------------------


async def list_dead_letters(url: str, dlqs: list[str], limit: int) -> list[Listing]:
    """Count each dead-letter queue and describe its first `limit` messages (reading all,
    up to `MAX_HELD`, and giving every one back in order)."""
    listings = []
    async with _connection(url) as connection:
        for name in dlqs:
            channel = await connection.channel()
            try:
                queue, count = await _passive(channel, name)
            except aiormq.exceptions.ChannelNotFoundEntity:
                listings.append(Listing(name, None, []))
                continue  # that failed declare closed the channel
            readable = limit > 0 and count <= MAX_HELD
            held = await _take(channel, queue, count if readable else 0)
            listings.append(Listing(name, count, [describe(m) for m in held[:limit]]))
            await _give_back(held)
            await channel.close()
    return listings


async def _take(
    channel: AbstractChannel, queue: AbstractQueue, n: int
) -> list[AbstractIncomingMessage]:
    """Up to `n` messages from the head of `queue`, held unacknowledged (prefetch `n`, so no
    more are delivered and none twice), in queue order."""
    if n <= 0:
        return []
    await channel.set_qos(prefetch_count=n)
    held: list[AbstractIncomingMessage] = []
    enough = asyncio.Event()

    async def hold(message: AbstractIncomingMessage) -> None:
        held.append(message)
        if len(held) >= n:
            enough.set()

    tag = await queue.consume(hold)
    with suppress(TimeoutError):
        async with asyncio.timeout(TAKE_TIMEOUT_S):
            await enough.wait()
    await queue.cancel(tag)
    return list(held)


async def _give_back(messages: list[AbstractIncomingMessage]) -> None:
    """Return messages in order (nack, not reject: RabbitMQ 4.3+ counts a reject as a failed
    delivery). If the channel is gone, the broker has returned them already."""
    with suppress(*CHANNEL_GONE):
        for message in messages:
            await message.nack(requeue=True)


# -- replaying ------------------------------------------------------------------------------


async def replay_dead_letters(
    url: str, topology: Topology, queue: str, ids: set[str] | None, limit: int
) -> ReplayOutcome:
    """Replay the dead letters of `queue` (those in `ids`, or all when None) among the first
    `limit`: each copy is published with confirms to the retry exchange (first attempt, back
    to `queue`), and only then is the dead letter acknowledged. The others are given back in
    order (when the queue holds more than `limit`, on RabbitMQ 3.x they move behind the
    rest)."""
    outcome = ReplayOutcome([], [], sorted(ids or ()), 0)
    async with _connection(url) as connection:
        holder = await connection.channel()
        try:
            source, count = await _passive(holder, topology.dead_letter_queue(queue))
        except aiormq.exceptions.ChannelNotFoundEntity:
            raise NoSuchQueue(f"no dead-letter queue for {queue}: declare the topology") from None
        held = await _take(holder, source, min(count, limit))
        outcome.remaining = max(0, count - len(held))
        # A publish that fails can close its channel: never the one holding the dead letters.
        sender = await connection.channel(publisher_confirms=True, on_return_raises=True)
        publisher = Publisher(sender)
        keep = []
        for message in held:
            message_id = message.message_id or ""
            if ids is not None and message_id not in ids:
                keep.append(message)
                continue
            with suppress(ValueError):
                outcome.not_found.remove(message_id)
            if await _replay_one(publisher, topology, queue, message):
                outcome.replayed.append(message_id)
            else:
                outcome.failed.append(message_id)
                keep.append(message)
        await _give_back(keep)
    return outcome


async def _replay_one(
    publisher: Publisher, topology: Topology, queue: str, message: AbstractIncomingMessage
) -> bool:
    try:
        await publisher.publish(
            topology.retry,
            topology.retry_key(queue, 1),
            message.body,
            message_id=message.message_id,
            headers=replay_headers(message, topology, queue),
        )
    except BrokerError as exc:
        log.warning("deadletters.replay_failed", queue=queue, error=exc.reason)
        return False
    await message.ack()
    log.info("deadletters.replayed", queue=queue, message_id=message.message_id)
    return True


def replay_headers(
    message: AbstractIncomingMessage, topology: Topology, queue: str
) -> dict[str, str | int]:
    """The copy's headers: the broker's own (`x-cme-*`) without the retry count, so it gets
    its full retries again; none of RabbitMQ's (`x-death`, ...), which describe the old copy.

    For the router queue, the original AMQP publisher too: the router trusts that header on
    a message from the requeue exchange, which the copy will be, so it is set only from what
    is trustworthy: the dead letter's own `user_id` (RabbitMQ validated it), or the header
    when the message died after coming back through the requeue exchange (the router put it
    there). Otherwise it is dropped and the router refuses the message as unverified.
    """
    headers = message.headers or {}
    copy: dict[str, str | int] = {
        key: value
        for key, value in headers.items()
        if key.startswith(APP_HEADER_PREFIX)
        and key not in (ATTEMPT_HEADER, PUBLISHER_HEADER)
        and isinstance(value, str | int)
    }
    if queue == topology.router_queue:
        publisher = _original_publisher(message, topology)
        if publisher:
            copy[PUBLISHER_HEADER] = publisher
    return copy


def _original_publisher(message: AbstractIncomingMessage, topology: Topology) -> str | None:
    if message.user_id:
        return message.user_id
    headers = message.headers or {}
    if header_text(last_death(headers).get("exchange")) == topology.requeue:
        return header_text(headers.get(PUBLISHER_HEADER))
    return None


# -- plumbing -------------------------------------------------------------------------------


@asynccontextmanager
async def _connection(url: str) -> AsyncIterator[AbstractConnection]:
    connection = await aio_pika.connect(url, timeout=15)
    async with connection:
        yield connection


async def _passive(channel: AbstractChannel, name: str) -> tuple[AbstractQueue, int]:
    queue = await channel.declare_queue(name, passive=True)
    return queue, queue.declaration_result.message_count or 0
