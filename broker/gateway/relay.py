"""The gateway's side of RabbitMQ: publish submitted envelopes into the hub's ingress (as a
trusted publisher, for the agency the caller authenticated as) and take messages off an
agency's queue for its mailbox.

Every operation is bounded by `timeout_s`: while RabbitMQ is down (or the robust connection
is reconnecting) the gateway answers at once from its database instead of hanging, and a
failed connection attempt is not retried for a few seconds, so a burst of requests does not
become a burst of connection attempts.
"""

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from uuid import UUID

import aio_pika
import structlog
from aio_pika.abc import (
    AbstractIncomingMessage,
    AbstractRobustChannel,
    AbstractRobustConnection,
)
from aiormq.exceptions import ChannelNotFoundEntity

from broker.envelope.jose import b64url_decode, strict_json
from broker.gateway.errors import HubUnavailable
from broker.gateway.store import Delivery
from broker.transport.headers import SENDER_HEADER
from broker.transport.publish import CHANNEL_GONE, Publisher, PublishFailed
from broker.transport.topology import Topology

log = structlog.get_logger(__name__)
RECONNECT_PAUSE_S = 5.0
Deposit = Callable[[Sequence[Delivery]], Awaitable[None]]


class AmqpRelay:
    """One robust connection, a confirming channel for publishing and one for taking."""

    def __init__(
        self, amqp_url: str, user_id: str | None, topology: Topology, timeout_s: float
    ) -> None:
        self._url = amqp_url
        self._user_id = user_id
        self._topology = topology
        self._timeout = timeout_s
        self._lock = asyncio.Lock()
        self._connection: AbstractRobustConnection | None = None
        self._publisher: Publisher | None = None
        self._taker: AbstractRobustChannel | None = None
        self._failed_at = 0.0

    async def publish(self, sender: str, message_id: str, wire: str) -> None:
        """Publish to the ingress with the sender's routing key; `PublishFailed` unless
        RabbitMQ confirmed it into the router's queue in time."""
        try:
            publisher = await self._publishing()
        except HubUnavailable:
            raise PublishFailed("hub is not reachable") from None
        await publisher.publish(
            self._topology.ingress,
            self._topology.ingress_key(sender),
            wire.encode(),
            message_id=message_id,
            user_id=self._user_id,
        )

    async def take(self, agency_id: str, limit: int, deposit: Deposit) -> int:
        """Move up to `limit` messages from the agency's queue into its mailbox: `deposit`
        commits them, and only then are they acked (a crash in between redelivers them, and
        the mailbox recognises them). Returns how many were taken."""
        taker = await self._taking()
        messages: list[AbstractIncomingMessage] = []
        interrupted = False
        try:
            async with asyncio.timeout(self._timeout):
                # Passive: the gateway may not create queues. robust=False: nothing for the
                # robust channel to remember and re-declare.
                queue = await taker.declare_queue(
                    self._topology.agency_queue(agency_id), passive=True, robust=False
                )
                while len(messages) < limit:
                    message = await queue.get(no_ack=False, fail=False)
                    if message is None:
                        break
                    messages.append(message)
        except ChannelNotFoundEntity:  # no queue yet (topology not declared for it): empty
            await self._drop_taker()
            return 0
        except (TimeoutError, *CHANNEL_GONE) as exc:
            log.warning("gateway.take_failed", error=type(exc).__name__)
            interrupted = True
        try:
            return await self._keep(messages, deposit)
        finally:
            if interrupted:
                # A get cut short may still deliver to this channel: closing it hands any
                # such message back to the queue instead of leaving it unacked here.
                await self._drop_taker()
                if not messages:
                    raise HubUnavailable("the hub did not answer in time")

    async def ping(self) -> bool:
        """Whether RabbitMQ answers now (a connection that is reconnecting does not)."""
        try:
            await self._publishing()
        except HubUnavailable:
            return False
        return True

    async def close(self) -> None:
        """Close the connection (if any)."""
        async with self._lock:
            await self._close_connection()

    async def _keep(self, messages: list[AbstractIncomingMessage], deposit: Deposit) -> int:
        readable = [(m, d) for m in messages if (d := _delivery(m.body, m.message_id, m.headers))]
        try:
            await deposit([d for _, d in readable])
        except BaseException:
            await _settle(messages, lambda m: m.nack(requeue=True))  # not kept: back they go
            raise
        kept = {id(m) for m, _ in readable}
        # Only the router delivers here, so an unreadable message is a bug: park it in the
        # agency's dead-letter queue (never lose it, never show it).
        await _settle(messages, lambda m: m.ack() if id(m) in kept else m.reject(requeue=False))
        return len(readable)

    async def _publishing(self) -> Publisher:
        async with self._lock:
            connection = await self._connected()
            if self._publisher is None:
                channel = await self._open(
                    connection.channel(publisher_confirms=True, on_return_raises=True)
                )
                self._publisher = Publisher(channel, self._timeout)
            return self._publisher

    async def _taking(self) -> AbstractRobustChannel:
        async with self._lock:
            connection = await self._connected()
            if self._taker is None:
                self._taker = await self._open(connection.channel(publisher_confirms=False))
            return self._taker

    async def _drop_taker(self) -> None:
        async with self._lock:
            taker, self._taker = self._taker, None
        if taker is not None:
            with contextlib.suppress(TimeoutError, *CHANNEL_GONE):
                async with asyncio.timeout(self._timeout):
                    await taker.close()

    async def _connected(self) -> AbstractRobustConnection:
        """The connection, if it is up now; `HubUnavailable` at once otherwise."""
        if self._connection is not None:
            if self._connection.connected.is_set():
                return self._connection
            raise HubUnavailable("the hub is reconnecting")
        if time.monotonic() - self._failed_at < RECONNECT_PAUSE_S:
            raise HubUnavailable("the hub is not reachable")
        try:
            async with asyncio.timeout(self._timeout):
                self._connection = await aio_pika.connect_robust(self._url, timeout=self._timeout)
        except (TimeoutError, OSError, *CHANNEL_GONE) as exc:
            self._failed_at = time.monotonic()
            log.warning("gateway.hub_unreachable", error=type(exc).__name__)
            raise HubUnavailable("the hub is not reachable") from None
        return self._connection

    async def _open(self, opening: Awaitable[AbstractRobustChannel]) -> AbstractRobustChannel:
        try:
            async with asyncio.timeout(self._timeout):
                return await opening
        except (TimeoutError, *CHANNEL_GONE) as exc:
            # Half up: start again from a fresh connection rather than keep this one around.
            log.warning("gateway.channel_failed", error=type(exc).__name__)
            self._failed_at = time.monotonic()
            await self._close_connection()
            raise HubUnavailable("the hub is not answering") from None

    async def _close_connection(self) -> None:
        connection = self._connection
        self._connection, self._publisher, self._taker = None, None, None
        if connection is not None:
            with contextlib.suppress(TimeoutError, *CHANNEL_GONE):
                async with asyncio.timeout(self._timeout):
                    await connection.close()


async def _settle(
    messages: Sequence[AbstractIncomingMessage],
    settle: Callable[[AbstractIncomingMessage], Awaitable[None]],
) -> None:
    for message in messages:
        try:
            await settle(message)
        except CHANNEL_GONE:  # redelivered once the channel is back; the mailbox absorbs it
            return


def _delivery(
    body: bytes, message_id: str | None, headers: Mapping[str, object] | None
) -> Delivery | None:
    """What the mailbox keeps of a delivery. The router verified the outer layer and stamped
    the sender; the type is read from the (already verified) outer claims."""
    sender = (headers or {}).get(SENDER_HEADER)
    try:
        wire = body.decode("utf-8")
        claims = strict_json(b64url_decode(strict_json(wire)["header"].split(".")[1]))
        message_type = str(claims["cme_type"])
        # The router publishes the id in canonical form; the claim may be in any UUID form.
        jti = str(UUID(str(claims["jti"])))
    except (ValueError, KeyError, IndexError, TypeError, AttributeError, UnicodeDecodeError):
        log.error("gateway.unreadable_delivery")  # only the router delivers here: a bug
        return None
    if not isinstance(sender, str) or (message_id and message_id != jti):
        log.error("gateway.unstamped_delivery")
        return None
    return Delivery(message_id=jti, sender=sender, message_type=message_type, wire=wire)
