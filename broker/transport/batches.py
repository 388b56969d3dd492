"""Group deliveries into batches, so one database transaction (one fsync) and one round of
publisher confirms serve many messages."""

import asyncio
import contextlib

from aio_pika.abc import AbstractIncomingMessage


class Batches:
    """A consumer callback feeds `put`; a worker takes batches with `take` until `close`."""

    def __init__(self, max_size: int = 64, linger_s: float = 0.002) -> None:
        self._queue: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
        self._max = max_size
        self._linger = linger_s
        self._closed = asyncio.Event()

    async def put(self, message: AbstractIncomingMessage) -> None:
        """The consumer callback."""
        self._queue.put_nowait(message)

    def close(self) -> None:
        """No more deliveries: `take` drains what is left, then returns an empty batch."""
        self._closed.set()

    async def take(self) -> list[AbstractIncomingMessage]:
        """The next batch: waits for one message, then lingers briefly for more. Empty only
        once closed and drained."""
        first = await self._first()
        if first is None:
            return []
        batch = [first]
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._linger):
                while len(batch) < self._max:
                    batch.append(await self._queue.get())
        while len(batch) < self._max and not self._queue.empty():
            batch.append(self._queue.get_nowait())
        return batch

    async def _first(self) -> AbstractIncomingMessage | None:
        while True:
            if not self._queue.empty():
                return self._queue.get_nowait()
            if self._closed.is_set():
                return None
            getter = asyncio.ensure_future(self._queue.get())
            closer = asyncio.ensure_future(self._closed.wait())
            done, pending = await asyncio.wait(
                {getter, closer}, return_when=asyncio.FIRST_COMPLETED
            )
            for task in pending:
                task.cancel()
            if getter in done:
                return getter.result()
