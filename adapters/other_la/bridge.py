"""The bridge between two LA hubs: sender -> own hub -> peer hub -> recipient.

On its own hub the bridge consumes the queues of the peer's agencies (the router delivers
there whatever it routed to them) and publishes each envelope, byte for byte, into the peer
hub's ingress as its sender's message. The peer hub verifies and records it like any other,
and routes it; receipts come back the same way through the bridge running the other way. The
bridge holds no key at all: it cannot read, alter or forge what it carries.

Effectively once: a message is acked on the source hub only after the peer confirmed it; a
crash in between republishes it, which the peer's router recognises (`duplicate`) and the
recipient's inbox absorbs.
"""

import asyncio
import contextlib
from dataclasses import dataclass

import aio_pika
import structlog
from aio_pika.abc import AbstractIncomingMessage, AbstractQueue

from broker.client.agency import ClientSettings
from broker.transport.batches import Batches
from broker.transport.headers import SENDER_HEADER
from broker.transport.publish import CHANNEL_GONE, Publisher, PublishFailed
from broker.transport.topology import Topology

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class HubEnd:
    """One hub as the bridge sees it: where it is and its topology's names."""

    amqp_url: str
    topology: Topology


@dataclass(frozen=True)
class BridgeSettings:
    """The bridge's flow control."""

    prefetch: int = 64
    publish_timeout_s: float = 10.0


class Bridge:
    """Carries messages for `peer_agencies` from the `source` hub into the `target` hub."""

    def __init__(
        self,
        source: HubEnd,
        target: HubEnd,
        peer_agencies: tuple[str, ...],
        settings: BridgeSettings = BridgeSettings(),
    ) -> None:
        self._source, self._target = source, target
        self._agencies = peer_agencies
        self._settings = settings
        # RabbitMQ checks `user_id` against the connection's user: the peer's router then
        # knows the bridge published (a publisher it trusts to carry its peer's agencies).
        self._user_id = ClientSettings(target.amqp_url).user_id
        self.carried = 0
        self._stopping = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        """Carry messages until `stop` is set; then finish what is in flight."""
        source = await aio_pika.connect_robust(self._source.amqp_url, timeout=15)
        target = await aio_pika.connect_robust(self._target.amqp_url, timeout=15)
        try:
            out = await target.channel(publisher_confirms=True, on_return_raises=True)
            publisher = Publisher(out, self._settings.publish_timeout_s)
            channel = await source.channel()
            await channel.set_qos(prefetch_count=self._settings.prefetch)
            batches = Batches(self._settings.prefetch)
            worker = asyncio.create_task(self._work(batches, publisher))
            consumers = [await self._consume(channel, a, batches) for a in self._agencies]
            log.info("bridge.started", agencies=len(self._agencies))
            await stop.wait()
            self._stopping.set()  # cuts retries short: those messages go back to their queue
            for queue, tag in consumers:
                with contextlib.suppress(TimeoutError, *CHANNEL_GONE):
                    async with asyncio.timeout(self._settings.publish_timeout_s):
                        await queue.cancel(tag)
            batches.close()
            await worker
        finally:
            await source.close()
            await target.close()

    async def _consume(
        self, channel: aio_pika.abc.AbstractChannel, agency: str, batches: Batches
    ) -> tuple[AbstractQueue, str]:
        name = self._source.topology.agency_queue(agency)
        queue = await channel.declare_queue(name, passive=True)
        return queue, await queue.consume(batches.put)

    async def _work(self, batches: Batches, publisher: Publisher) -> None:
        while batch := await batches.take():
            await asyncio.gather(*(self._deliver(m, publisher) for m in batch))

    async def _deliver(self, message: AbstractIncomingMessage, publisher: Publisher) -> None:
        """Carry one message, holding it (unacked) and retrying with back-off while the peer
        hub is unreachable: requeueing would spend its delivery limit and dead-letter it
        during an outage. Stopping gives it back to its queue."""
        sender = _sender_of(message)
        if sender is None:  # only the router stamps deliveries: nothing to carry it as
            log.error("bridge.unstamped_delivery")
            with contextlib.suppress(*CHANNEL_GONE):
                await message.reject(requeue=False)
            return
        backoff = 0.5
        while True:
            try:
                await self._carry(message, sender, publisher)
                break
            except PublishFailed as exc:
                log.warning("bridge.not_carried", error=type(exc).__name__)
                if await _stopped_within(self._stopping, backoff):
                    with contextlib.suppress(*CHANNEL_GONE):
                        await message.nack(requeue=True)
                    return
                backoff = min(backoff * 2, 30.0)
        with contextlib.suppress(*CHANNEL_GONE):
            await message.ack()
            self.carried += 1

    async def _carry(
        self, message: AbstractIncomingMessage, sender: str, publisher: Publisher
    ) -> None:
        await publisher.publish(
            self._target.topology.ingress,
            self._target.topology.ingress_key(sender),
            message.body,
            message_id=message.message_id,
            user_id=self._user_id,
        )


async def _stopped_within(stop: asyncio.Event, seconds: float) -> bool:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await stop.wait()
    return stop.is_set()


def _sender_of(message: AbstractIncomingMessage) -> str | None:
    """The envelope's sender as the source hub verified it (its router stamps the header)."""
    value = (message.headers or {}).get(SENDER_HEADER)
    return str(value) if value else None
