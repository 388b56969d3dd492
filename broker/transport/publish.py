"""Publishing with publisher confirms, `mandatory`, and a bounded timeout.

An unroutable (returned) or nacked message, or no confirm in time, is a `PublishFailed`:
never a silent success.
"""

import asyncio
from collections.abc import Mapping

import aiormq
from aio_pika import DeliveryMode, Message
from aio_pika.abc import AbstractChannel, AbstractExchange
from pamqp.commands import Basic

from broker.errors import BrokerError

CHANNEL_GONE = (
    aiormq.exceptions.AMQPError,
    aiormq.exceptions.ChannelInvalidStateError,
    ConnectionError,
)
"""An ack/nack/publish on a channel the broker closed: the broker redelivers what was not
acked once the robust connection is back, so there is nothing to do but carry on."""


class PublishFailed(BrokerError):
    """The broker did not confirm the message into a queue."""

    reason = "publish_failed"


class Publisher:
    """Publishes persistent messages on a channel opened with `on_return_raises=True`."""

    def __init__(self, channel: AbstractChannel, timeout_s: float = 10.0) -> None:
        self._channel = channel
        self._timeout = timeout_s
        self._exchanges: dict[str, AbstractExchange] = {}

    async def _exchange(self, name: str) -> AbstractExchange:
        if name == "":
            return self._channel.default_exchange
        if name not in self._exchanges:
            self._exchanges[name] = await self._channel.get_exchange(name, ensure=False)
        return self._exchanges[name]

    async def publish(
        self,
        exchange: str,
        routing_key: str,
        body: bytes,
        *,
        message_id: str | None = None,
        headers: Mapping[str, str | int] | None = None,
        user_id: str | None = None,
    ) -> None:
        """Publish and wait for the confirm. Raises `PublishFailed`."""
        message = Message(
            body,
            delivery_mode=DeliveryMode.PERSISTENT,
            content_type="application/json",
            message_id=message_id,
            headers=dict(headers or {}),
            user_id=user_id,
        )
        try:
            # The whole publish is bounded, not just the confirm: while a robust connection
            # is reconnecting, getting the channel would otherwise wait indefinitely.
            async with asyncio.timeout(self._timeout):
                target = await self._exchange(exchange)
                result = await target.publish(message, routing_key, mandatory=True)
        except aiormq.exceptions.DeliveryError:
            raise PublishFailed("message was returned as unroutable") from None
        except TimeoutError:
            raise PublishFailed("not confirmed in time") from None
        except (aiormq.exceptions.AMQPError, ConnectionError, RuntimeError) as exc:
            raise PublishFailed(f"publish failed: {type(exc).__name__}") from None
        if not isinstance(result, Basic.Ack):
            raise PublishFailed("broker did not confirm the message")
