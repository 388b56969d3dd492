"""A router replica keeps a few batches in flight: the next batch is decided while earlier
ones wait for their publisher confirms, but decisions never overlap, every message is routed
once, and a stop finishes every batch it took."""

import asyncio
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from broker.ledger import LedgerEvent
from broker.router.service import RouterService
from broker.transport.publish import Publisher
from tests.integration.hub_harness import LA, SCHOOL, Hub, eventually

CONFIRM_DELAY_S = 0.3


class Watch:
    """What the router's decisions and publishes did, and when."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.deciding = 0
        self.most_deciding = 0
        self.decided_while_publishing = 0
        self.publishing: Counter[int] = Counter()
        """Publishes awaiting their (slowed) confirm, by `id()` of the publisher."""

    def enter(self, router: RouterService) -> None:
        with self.lock:
            self.deciding += 1
            self.most_deciding = max(self.most_deciding, self.deciding)
            if self.publishing[id(router._publisher)]:
                self.decided_while_publishing += 1

    def leave(self) -> None:
        with self.lock:
            self.deciding -= 1


@pytest.fixture
async def hub(
    tmp_path: Path, rabbitmq_url: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[Hub, Watch]]:
    watch = Watch()
    decide = RouterService._decide_and_record
    publish = Publisher.publish

    def watched_decide(self: RouterService, batch: list[Any]) -> Any:
        watch.enter(self)
        try:
            time.sleep(0.01)  # long enough for an overlap to show, if one were allowed
            return decide(self, batch)
        finally:
            watch.leave()

    async def slow_publish(self: Publisher, *args: Any, **kwargs: Any) -> None:
        watch.publishing[id(self)] += 1
        try:
            await publish(self, *args, **kwargs)
            await asyncio.sleep(CONFIRM_DELAY_S)  # a slow confirm, as from a busy quorum queue
        finally:
            watch.publishing[id(self)] -= 1

    monkeypatch.setattr(RouterService, "_decide_and_record", watched_decide)
    monkeypatch.setattr(Publisher, "publish", slow_publish)
    hub = Hub(tmp_path, rabbitmq_url)
    hub.add_agencies((SCHOOL, LA))
    await hub.start(clients=(SCHOOL, LA))
    yield hub, watch
    await hub.stop()


async def test_batches_overlap_their_confirms_but_never_their_decisions(
    hub: tuple[Hub, Watch],
) -> None:
    the_hub, watch = hub
    sent = []
    for _ in range(12):  # spread out: several small batches, not one
        sent.append(str(the_hub.send_example(SCHOOL, LA, "school.deletion_return").claims.jti))
        await asyncio.sleep(0.05)
    await eventually(lambda: all(the_hub.handled[f"{LA}/{m}"] == 1 for m in sent), 60)

    assert watch.most_deciding == 1
    assert watch.decided_while_publishing > 0  # pipelined: without it, this stays 0
    ledger = the_hub.container.ledger(signing=False)
    for message_id in sent:
        routed = [e for e in ledger.history(message_id) if e.event == LedgerEvent.ROUTED]
        assert len(routed) == 1
    assert ledger.verify(the_hub.container.snapshot()).ok


async def test_a_stop_finishes_the_batches_in_flight(hub: tuple[Hub, Watch]) -> None:
    the_hub, watch = hub
    sent = [
        str(the_hub.send_example(SCHOOL, LA, "school.deletion_return").claims.jti) for _ in range(8)
    ]
    ledger = the_hub.container.ledger(signing=False)
    # Stop the router as soon as the first is recorded, with publishes still in flight.
    await eventually(lambda: bool(ledger.history(sent[0])), 30)
    stop, task, router = the_hub._routers[0]
    assert watch.publishing[id(router._publisher)] > 0  # stopped with publishes in flight
    stop.set()
    await asyncio.wait_for(task, 30)
    assert watch.publishing[id(router._publisher)] == 0  # and it waited for them

    # Whatever the stopped router recorded, it also delivered (its batches were finished);
    # the rest stayed on the queue and a new replica routes it.
    the_hub.start_router("router-after-stop")
    await eventually(lambda: all(the_hub.handled[f"{LA}/{m}"] == 1 for m in sent), 60)
    for message_id in sent:
        routed = [e for e in ledger.history(message_id) if e.event == LedgerEvent.ROUTED]
        assert len(routed) == 1
