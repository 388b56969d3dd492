"""Resilience on the real RabbitMQ: a broker restart and a router SIGKILL in the middle of a
stream lose nothing and process nothing twice; a poison message is dead-lettered while the
messages behind it flow.

Every wait is bounded. The restart test leaves RabbitMQ running whatever happens (try/finally
in the test, and the `rabbit` fixture brings the node back before any other test runs).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import aio_pika
import pytest
from aio_pika.abc import AbstractIncomingMessage
from sqlalchemy import select as sa_select
from sqlmodel import Session, select

from broker.client.tables import InboxRow, OutboxRow
from broker.envelope import Opened
from broker.ledger import LedgerEvent, LedgerRecord, SqlLedger
from broker.ledger.rows import ENTRY
from broker.transport.topology import DELIVERY_LIMIT, Topology
from tests.integration.hub_harness import LA, SCHOOL, Hub, eventually
from tests.integration.rabbit_control import RabbitControl
from tests.services import in_ci

pytestmark = pytest.mark.rabbitmq

STREAM = 2000
"""Messages in each stream test."""
INTERRUPT_AT = 500
"""The broker is restarted / the router killed once the LA has handled this many."""
STREAM_RATE_PER_S = 150
"""The school stages messages at this rate, so the stream spans the interruption."""
MAX_AHEAD = 1000
"""... and at most this many ahead of the LA (the stream cannot end before 1,000 handled).
Room to stage while the broker is down: on a slow machine the LA lags the school by several
hundred messages at the interruption, and with 800 the stream sometimes had no room left."""
MESSAGE_TYPE = "school.deletion_return"
STALL_S = 60.0
"""A stream that makes no progress for this long has failed (nothing will come)."""
STOP_WHILE_DOWN_S = 30.0
"""Clients and router asked to stop during an outage must have stopped within this."""


# -- fixtures and helpers ------------------------------------------------------------------


@pytest.fixture
def rabbit(rabbitmq_url: str) -> Iterator[RabbitControl]:
    """Control of the local RabbitMQ node; afterwards it is running and answering AMQP.
    Request it before `hubs`, so the node is back before the hubs' topologies are deleted."""
    control = RabbitControl(rabbitmq_url)
    reason = control.unavailable_reason()
    if reason is not None:
        message = f"cannot restart RabbitMQ: {reason}"
        if in_ci():
            pytest.fail(f"{message} (CI is set, so this is a failure, not a skip)", pytrace=False)
        pytest.skip(message)
    try:
        yield control
    finally:
        # Runs after the hubs' teardown (tests take `rabbit` before `hubs`): whatever the test
        # did, the node is up, settled and able to declare at-least-once quorum queues.
        control.ensure_up()
        if control.heal_dead_letter_workers():
            warnings.warn("RabbitMQ's rabbit_fifo_dlx_sup had died and was restarted", stacklevel=1)


@pytest.fixture
async def hubs(tmp_path: Path, rabbitmq_url: str) -> AsyncIterator[Callable[..., Hub]]:
    """Make hubs on fresh data directories; each is stopped and its topology deleted after the
    test, even when a client or router fails to stop cleanly."""
    made: list[Hub] = []

    def make(topology: Callable[[str], Topology] | None = None) -> Hub:
        hub = Hub(tmp_path / f"hub{len(made)}", rabbitmq_url)
        if topology is not None:  # before start: the topology is declared from it
            hub.container.__dict__["topology"] = topology(hub.prefix)
        made.append(hub)
        return hub

    yield make
    for hub in made:
        await shutdown(hub)


async def shutdown(hub: Hub) -> None:
    """Stop everything of `hub` that is running, bounded, then delete its topology."""
    failures: list[str] = []
    for task in asyncio.all_tasks():
        if task.get_name() == f"stream-{hub.prefix}":
            task.cancel()  # a stream left running by a failed test
    for agency, client in hub.clients.items():
        try:
            await asyncio.wait_for(client.stop(), 30)
        except (Exception, asyncio.CancelledError) as exc:  # keep going: delete the topology
            failures.append(f"client {agency}: {exc!r}")
    for stop, task, _ in hub._routers:
        stop.set()
        try:
            await asyncio.wait_for(task, 30)
        except (Exception, asyncio.CancelledError) as exc:
            failures.append(f"router: {exc!r}")
    hub.clients.clear()
    hub._routers.clear()
    await hub.delete_topology()
    assert not failures, f"hub did not stop cleanly: {failures}"


class Stream:
    """The school sends `total` messages to the LA in the background, at a steady rate and at
    most `MAX_AHEAD` ahead of what the LA has handled, so the stream is certainly still
    running when the LA has handled `INTERRUPT_AT` (whatever the machine's speed)."""

    def __init__(self, hub: Hub, total: int, rate_per_s: float = STREAM_RATE_PER_S) -> None:
        self.hub = hub
        self.total = total
        self.ids: list[str] = []
        self.task = asyncio.create_task(self._run(rate_per_s), name=f"stream-{hub.prefix}")

    async def _run(self, rate_per_s: float) -> None:
        batch = 10
        start = time.monotonic()
        while len(self.ids) < self.total:
            for _ in range(min(batch, self.total - len(self.ids))):
                sealed = self.hub.send_example(SCHOOL, LA, MESSAGE_TYPE)
                self.ids.append(str(sealed.claims.jti))
            # pace the stream (not a wait for a condition): the rate, then the backlog
            due = start + len(self.ids) / rate_per_s
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            while len(self.ids) - handled_by_la(self.hub) >= MAX_AHEAD:
                await asyncio.sleep(0.05)

    @property
    def done(self) -> bool:
        return self.task.done()


def handled_by_la(hub: Hub) -> int:
    return sum(1 for key in hub.handled if key.startswith(f"{LA}/"))


def receipts(hub: Hub) -> dict[str, str | None]:
    """The school's outbox: message id -> receipt outcome (None while none came back)."""
    with Session(hub.container.engine) as session:
        rows = session.exec(select(OutboxRow).where(OutboxRow.agency_id == SCHOOL)).all()
        return {row.message_id: row.receipt_outcome for row in rows}


def accepted_receipts(hub: Hub) -> int:
    return sum(1 for outcome in receipts(hub).values() if outcome == "accepted")


def stream_state(hub: Hub, stream: Stream) -> str:
    """One line for failure messages."""
    client = hub.clients.get(SCHOOL)
    pending = client.pending() if client is not None else "?"
    return (
        f"sent={len(stream.ids)}/{stream.total} handled={handled_by_la(hub)} "
        f"receipts={accepted_receipts(hub)} school_outbox_unpublished={pending}"
    )


async def until_complete(
    what: str,
    progress: Callable[[], int],
    target: int,
    describe: Callable[[], str],
    *,
    stall_s: float = STALL_S,
    total_s: float = 300.0,
) -> None:
    """Wait until `progress()` reaches `target`; fail when it stalls for `stall_s` or the whole
    wait passes `total_s` (fails fast when, say, a consumer was never restored)."""
    deadline = time.monotonic() + total_s
    last, last_change = progress(), time.monotonic()
    while last < target:
        now = time.monotonic()
        if now - last_change > stall_s:
            pytest.fail(f"{what}: no progress for {stall_s:.0f} s ({describe()})")
        if now > deadline:
            pytest.fail(f"{what}: not complete after {total_s:.0f} s ({describe()})")
        await asyncio.sleep(0.1)
        value = progress()
        if value != last:
            last, last_change = value, time.monotonic()


async def queue_depths(hub: Hub, names: list[str]) -> dict[str, int]:
    """Ready messages in each queue (passive declare: fails if a queue is missing)."""
    connection = await aio_pika.connect(hub.rabbitmq_url, timeout=15)
    async with connection:
        channel = await connection.channel()
        depths = {}
        for name in names:
            queue = await channel.declare_queue(name, passive=True)
            depths[name] = queue.declaration_result.message_count or 0
        return depths


def all_dead_letter_queues(hub: Hub) -> list[str]:
    """The refused queue and the dead-letter queues of the router and the two agencies."""
    topology = hub.container.topology
    return [topology.refused_queue] + [
        topology.dead_letter_queue(q) for q in topology.work_queues([SCHOOL, LA])
    ]


def ledger_events(hub: Hub) -> Counter[tuple[str, str]]:
    """(event, message id) -> how many ledger entries. A receipt is counted under the message
    it answers (a batched receipt records one entry per answered message)."""
    with hub.container.engine.connect() as connection:
        columns = (ENTRY.c.event, ENTRY.c.message_id, ENTRY.c.related_message_id)
        rows = connection.execute(sa_select(*columns)).all()
    return Counter(
        (str(event), str(related if event == LedgerEvent.RECEIPTED.value else message_id))
        for event, message_id, related in rows
    )


async def assert_stream_exactly_once(hub: Hub, stream: Stream) -> None:
    """Every message handled once by the LA, answered by an accepted receipt, routed and
    receipted once in the ledger; nothing dead-lettered or refused; the ledger verifies."""
    await until_complete(
        "LA handling", lambda: handled_by_la(hub), stream.total, lambda: stream_state(hub, stream)
    )
    await asyncio.wait_for(stream.task, 30)
    ids = stream.ids
    assert len(ids) == len(set(ids)) == stream.total
    await until_complete(
        "receipts", lambda: accepted_receipts(hub), stream.total, lambda: stream_state(hub, stream)
    )
    # Lost: none. Processed twice: none (the handler ran exactly once per message).
    expected = {f"{LA}/{message_id}" for message_id in ids}
    missing = expected - set(hub.handled)
    twice = {key: n for key, n in hub.handled.items() if n != 1}
    assert not missing, f"{len(missing)} messages lost, e.g. {sorted(missing)[:3]}"
    assert not twice, (
        f"{len(twice)} messages handled more than once, e.g. {list(twice.items())[:3]}"
    )
    assert set(hub.handled) == expected
    outcomes = receipts(hub)
    assert {outcomes.get(m) for m in ids} == {"accepted"}
    with Session(hub.container.engine) as session:
        inbox = session.exec(select(InboxRow).where(InboxRow.agency_id == LA)).all()
    assert sorted(row.message_id for row in inbox) == sorted(ids)
    events = ledger_events(hub)
    routed = {m: n for (e, m), n in events.items() if e == LedgerEvent.ROUTED.value}
    assert routed.keys() == set(ids)
    assert set(routed.values()) == {1}, "a message was recorded as routed twice"
    receipted = {m: n for (e, m), n in events.items() if e == LedgerEvent.RECEIPTED.value}
    assert receipted.keys() == set(ids)
    assert set(receipted.values()) == {1}, "a message was recorded as receipted twice"
    assert not [e for (e, _) in events if e == LedgerEvent.REFUSED.value]
    depths = await queue_depths(hub, all_dead_letter_queues(hub))
    assert set(depths.values()) == {0}, f"dead-lettered or refused: {depths}"
    report = hub.container.ledger(signing=False).verify(hub.container.snapshot())
    assert report.ok, report.message


# -- 1. RabbitMQ restarted mid-stream --------------------------------------------------------


async def test_rabbitmq_restart_mid_stream_loses_nothing_and_doubles_nothing(
    rabbit: RabbitControl, hubs: Callable[..., Hub]
) -> None:
    """`rabbitmqctl stop_app` + `start_app` once the LA has handled 500 of 2,000 messages
    (the school keeps sending into its outbox meanwhile): the clients and the router reconnect
    by themselves; every message is handled once and receipted `accepted`."""
    hub = hubs()
    hub.add_agencies([SCHOOL, LA])
    await hub.start(clients=[SCHOOL, LA], routers=1)
    stream = Stream(hub, STREAM)
    await eventually(lambda: handled_by_la(hub) >= INTERRUPT_AT, 120)
    assert not stream.done, "the stream ended before the restart: nothing was tested"
    started = time.monotonic()
    try:
        await asyncio.to_thread(rabbit.stop_app)
        # While the broker is down the school keeps staging into its outbox (unpublished).
        try:
            await eventually(lambda: hub.clients[SCHOOL].pending() >= 100, 30)
        except TimeoutError:
            state = f"{len(stream.ids)} staged, {handled_by_la(hub)} handled"
            pytest.fail(f"the school did not stage 100 while the broker was down: {state}")
    finally:
        await asyncio.to_thread(rabbit.ensure_up)
    print(f"\nrestart: broker down and up again in {time.monotonic() - started:.1f} s")
    # The clients and the router reconnect by themselves and the stream completes.
    after_restart = handled_by_la(hub)
    await until_complete(
        "progress after the restart",
        lambda: handled_by_la(hub),
        after_restart + 1,
        lambda: stream_state(hub, stream),
    )
    await assert_stream_exactly_once(hub, stream)


async def test_clients_and_router_stop_in_bounded_time_while_rabbitmq_is_down(
    rabbit: RabbitControl, hubs: Callable[..., Hub]
) -> None:
    """A SIGTERM (graceful stop) during a broker outage must not hang: the robust channel
    would otherwise wait for the broker for ever when cancelling the consumer."""
    hub = hubs()
    hub.add_agencies([SCHOOL, LA])
    await hub.start(clients=[SCHOOL, LA], routers=1)
    clients = list(hub.clients.values())
    routers = list(hub._routers)
    try:
        await asyncio.to_thread(rabbit.stop_app)
        for stop, _, _ in routers:
            stop.set()
        started = time.monotonic()
        results = await asyncio.wait_for(
            asyncio.gather(
                *(client.stop() for client in clients),
                *(task for _, task, _ in routers),
                return_exceptions=True,
            ),
            STOP_WHILE_DOWN_S,
        )
        print(f"\nstopped while the broker was down in {time.monotonic() - started:.1f} s")
        assert [r for r in results if isinstance(r, BaseException)] == []
    except TimeoutError:
        pytest.fail(
            f"clients/router did not stop within {STOP_WHILE_DOWN_S} s while RabbitMQ was down "
            "(queue.cancel on a robust channel waits for the reconnection)"
        )
    finally:
        await asyncio.to_thread(rabbit.ensure_up)
    hub.clients.clear()
    hub._routers.clear()


# -- 2. The router SIGKILLed mid-stream ------------------------------------------------------


def router_env(hub: Hub) -> dict[str, str]:
    """Settings for a `cme-broker` child process on the hub's database and topology."""
    settings = hub.container.settings
    return {
        "CME_DATA_DIR": str(settings.data_dir),
        "CME_DATABASE_URL": settings.resolved_database_url,
        "CME_TOPOLOGY_PREFIX": hub.prefix,
        "CME_RABBITMQ_URL": hub.rabbitmq_url,
    }


class RouterProcess:
    """`cme-broker router run` as a child process on the hub's database and topology."""

    def __init__(self, hub: Hub, name: str, log_dir: Path) -> None:
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [cme_broker(), "router", "run", "--actor", name],
            env={**os.environ, **router_env(hub)},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    async def started(self, timeout_s: float = 60.0) -> None:
        def check() -> bool:
            if self.process.poll() is not None:
                pytest.fail(f"router exited with {self.process.returncode}:\n{self.log()[-3000:]}")
            return "router.started" in self.log()

        await eventually(check, timeout_s)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self._log.close()

    def terminate(self, timeout_s: float = 30.0) -> int:
        """SIGTERM (graceful: finishes in-flight messages), bounded; SIGKILL after."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        self._log.close()
        return self.process.returncode


def cme_broker() -> str:
    """The `cme-broker` script of the interpreter running the tests."""
    beside = Path(sys.executable).parent / "cme-broker"
    found = str(beside) if beside.exists() else shutil.which("cme-broker")
    assert found, "the cme-broker script is not installed (pip install -e .)"
    return found


async def test_router_sigkill_mid_stream_loses_nothing_and_doubles_nothing(
    hubs: Callable[..., Hub], tmp_path: Path
) -> None:
    """`cme-broker router run` SIGKILLed once the LA has handled 500 of 2,000 messages, a new
    one started: every message is handled once and receipted, the ledger (written by both
    processes on the shared database) verifies, and the new router stops cleanly on SIGTERM."""
    hub = hubs()
    hub.add_agencies([SCHOOL, LA])
    await hub.start(clients=[SCHOOL, LA], routers=0)
    routers: list[RouterProcess] = []
    try:
        routers.append(RouterProcess(hub, "router-a", tmp_path))
        await routers[0].started()
        stream = Stream(hub, STREAM)
        await eventually(lambda: handled_by_la(hub) >= INTERRUPT_AT, 120)
        assert not stream.done, "the stream ended before the kill: nothing was tested"
        routers[0].kill()
        assert routers[0].process.returncode == -signal.SIGKILL
        killed_at = handled_by_la(hub)
        routers.append(RouterProcess(hub, "router-b", tmp_path))
        await routers[1].started()
        print(f"\nrouter killed at {killed_at} handled; replacement started")
        await assert_stream_exactly_once(hub, stream)
        # The ledger written by two processes verifies, from the command line too.
        verify = subprocess.run(
            [cme_broker(), "ledger", "verify"],
            env={**os.environ, **router_env(hub)},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert verify.returncode == 0, verify.stdout + verify.stderr
        with hub.container.engine.connect() as connection:
            actors = set(connection.execute(sa_select(ENTRY.c.actor).distinct()).scalars())
        assert {"router-a", "router-b"} <= actors
        # A graceful stop (SIGTERM) of the replacement finishes cleanly.
        assert await asyncio.to_thread(routers[1].terminate) == 0, routers[1].log()[-3000:]
    finally:
        for router in routers:
            if router.process.poll() is None:
                await asyncio.to_thread(router.terminate)


# -- 3. Poison messages ----------------------------------------------------------------------

FAST_RETRIES = (2, 2)
"""Short back-off for the tests (production: 1, 5, 30, 120, 600 s)."""


def fast_topology(prefix: str) -> Topology:
    return Topology(prefix=prefix, retry_delays_s=FAST_RETRIES)


async def get_one(url: str, queue_name: str) -> AbstractIncomingMessage | None:
    """Take (and ack) one message from `queue_name`, or None when it is empty."""
    connection = await aio_pika.connect(url, timeout=15)
    async with connection:
        channel = await connection.channel()
        queue = await channel.get_queue(queue_name, ensure=False)
        message = await queue.get(fail=False, timeout=10)
        if message is not None:
            await message.ack()
        return message


def first_death(message: AbstractIncomingMessage) -> dict[str, Any]:
    """The newest `x-death` entry RabbitMQ added when it dead-lettered `message`."""
    deaths = (message.headers or {}).get("x-death")
    assert isinstance(deaths, list), message.headers
    assert deaths, message.headers
    first = deaths[0]
    assert isinstance(first, dict)
    return first


async def test_poison_message_is_dead_lettered_after_bounded_retries_while_others_flow(
    hubs: Callable[..., Hub],
) -> None:
    """The LA's handler raises for one message: the 20 sent around it are handled (once each,
    receipted) while it is retried; after a bounded number of attempts it is parked in the
    LA queue's dead-letter queue, with no receipt and nothing left in the inbox."""
    hub = hubs(fast_topology)
    hub.add_agencies([SCHOOL, LA])
    await hub.start(clients=[SCHOOL], routers=1)
    topology = hub.container.topology
    queue_name = topology.agency_queue(LA)
    dlq = topology.dead_letter_queue(queue_name)
    poison: set[str] = set()
    attempts: Counter[str] = Counter()

    def handler(_session: Session, opened: Opened) -> None:
        message_id = str(opened.claims.jti)
        attempts[message_id] += 1
        if message_id in poison:
            raise ValueError("this handler cannot cope with this message")
        hub.handled[f"{LA}/{message_id}"] += 1

    client = hub.container.agency_client(LA, handler)
    await client.start()
    hub.clients[LA] = client

    # Good messages before and after the poison one (so they may share its inbox batch).
    # send() returns before the pump runs, so the id is poisoned before any delivery.
    good = [str(hub.send_example(SCHOOL, LA, MESSAGE_TYPE).claims.jti) for _ in range(10)]
    poisoned = str(hub.send_example(SCHOOL, LA, MESSAGE_TYPE).claims.jti)
    poison.add(poisoned)
    good += [str(hub.send_example(SCHOOL, LA, MESSAGE_TYPE).claims.jti) for _ in range(10)]

    await eventually(lambda: all(hub.handled[f"{LA}/{m}"] >= 1 for m in good), 30)
    # The good ones flowed while the poison one was still being retried (not yet parked),
    # each handled once (the handler runs once per message, even in a batch with the poison).
    assert attempts[poisoned] >= 1
    assert (await queue_depths(hub, [dlq]))[dlq] == 0
    twice = {m: hub.handled[f"{LA}/{m}"] for m in good if hub.handled[f"{LA}/{m}"] != 1}
    assert not twice, f"{len(twice)} of 20 good messages handled more than once: {twice}"
    # Bounded: the retries (each at least FAST_RETRIES[0] s apart) end in the dead-letter queue.
    bound_s = 10 + (DELIVERY_LIMIT + 1) * max(FAST_RETRIES) * 2
    try:
        async with asyncio.timeout(bound_s):
            while (await queue_depths(hub, [dlq]))[dlq] < 1:
                await asyncio.sleep(0.2)
    except TimeoutError:
        pytest.fail(f"not dead-lettered in {bound_s} s; handler attempts: {attempts[poisoned]}")
    tried = attempts[poisoned]
    assert 1 + len(FAST_RETRIES) <= tried <= DELIVERY_LIMIT + 1, (
        f"the failing handler ran {tried} times (at most one run per delivery expected)"
    )
    assert all(hub.handled[f"{LA}/{m}"] == 1 for m in good)
    await eventually(lambda: {receipts(hub).get(m) for m in good} == {"accepted"}, 30)
    assert f"{LA}/{poisoned}" not in hub.handled
    assert receipts(hub)[poisoned] is None
    depths = await queue_depths(hub, [queue_name, dlq])
    assert depths == {queue_name: 0, dlq: 1}
    parked = await get_one(hub.rabbitmq_url, dlq)
    assert parked is not None
    assert parked.message_id == poisoned
    assert first_death(parked)["queue"] == queue_name
    assert attempts[poisoned] == tried  # parked: no attempt after that
    with Session(hub.container.engine) as session:
        inbox = session.exec(select(InboxRow).where(InboxRow.message_id == poisoned)).all()
    assert inbox == []  # its failed transactions left nothing behind


@pytest.mark.parametrize("failure", ["nack-requeue", "consumer-crash"])
async def test_redelivered_poison_message_hits_the_quorum_delivery_limit(
    hubs: Callable[..., Hub], failure: str
) -> None:
    """A consumer that returns one message to the queue every time (nack with requeue, or a
    crash: its connection closes without an ack) cannot loop for ever: after the queue's
    delivery limit the message is dead-lettered, and the messages behind it are delivered
    (each once). A crash-looping consumer is restarted once per crash here."""
    hub = hubs(fast_topology)
    hub.add_agencies([SCHOOL, LA])
    await hub.start(clients=[SCHOOL], routers=1)
    topology = hub.container.topology
    queue_name = topology.agency_queue(LA)
    poisoned = str(hub.send_example(SCHOOL, LA, MESSAGE_TYPE).claims.jti)
    good = {str(hub.send_example(SCHOOL, LA, MESSAGE_TYPE).claims.jti) for _ in range(20)}
    deliveries: Counter[str] = Counter()

    async def consume_once() -> None:
        """One consumer's life: ack good messages, fail the poison one, then end."""
        connection = await aio_pika.connect(hub.rabbitmq_url, timeout=15)
        crashed = asyncio.Event()
        try:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=1)
            queue = await channel.get_queue(queue_name, ensure=False)

            async def on_message(message: AbstractIncomingMessage) -> None:
                message_id = message.message_id or ""
                deliveries[message_id] += 1
                if message_id != poisoned:
                    await message.ack()
                elif failure == "nack-requeue":
                    await message.nack(requeue=True)
                else:
                    crashed.set()  # no ack: the connection closes with it unacknowledged

            await queue.consume(on_message)
            await eventually(
                lambda: crashed.is_set() or (deliveries.keys() >= good and _dead(deliveries)),
                30,
            )
        finally:
            await connection.close()

    def _dead(_: Counter[str]) -> bool:
        return deliveries[poisoned] > DELIVERY_LIMIT

    dlq = topology.dead_letter_queue(queue_name)
    lives = 0
    async with asyncio.timeout(120):
        while not (deliveries.keys() >= good and (await queue_depths(hub, [dlq]))[dlq] >= 1):
            await consume_once()
            lives += 1
            assert lives <= DELIVERY_LIMIT + 2, f"the delivery limit did not stop it: {deliveries}"

    assert deliveries.keys() == good | {poisoned}
    assert all(deliveries[m] == 1 for m in good)  # the good ones were not held back
    assert deliveries[poisoned] == DELIVERY_LIMIT + 1
    depths = await queue_depths(hub, [queue_name, dlq])
    assert depths == {queue_name: 0, dlq: 1}
    parked = await get_one(hub.rabbitmq_url, dlq)
    assert parked is not None
    assert parked.message_id == poisoned
    death = first_death(parked)
    assert death["reason"] == "delivery_limit"
    assert death["queue"] == queue_name


async def test_router_dead_letters_a_message_it_fails_on_unexpectedly_while_others_flow(
    hubs: Callable[..., Hub], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A router bug that raises on one message (here: the ledger append raising ValueError, as
    pydantic's ValidationError would) must neither stop the router nor hold that message for
    ever: the messages around it are routed, and it is retried, then dead-lettered."""
    hub = hubs(fast_topology)
    hub.add_agencies([SCHOOL, LA])
    poison: set[str] = set()
    failures: Counter[str] = Counter()
    append_many = SqlLedger.append_many

    def failing_append_many(self: SqlLedger, records: Sequence[LedgerRecord]) -> list[int]:
        for record in records:
            if record.message_id in poison:
                failures[record.message_id] += 1
                raise ValueError("a bug in the router, triggered by this one message")
        return append_many(self, records)

    monkeypatch.setattr(SqlLedger, "append_many", failing_append_many)
    await hub.start(clients=[SCHOOL, LA], routers=1)
    topology = hub.container.topology
    poisoned = str(hub.send_example(SCHOOL, LA, MESSAGE_TYPE).claims.jti)
    poison.add(poisoned)
    good = [str(hub.send_example(SCHOOL, LA, MESSAGE_TYPE).claims.jti) for _ in range(20)]

    try:
        await eventually(lambda: all(hub.handled[f"{LA}/{m}"] == 1 for m in good), 30)
    except TimeoutError:
        handled = sum(hub.handled[f"{LA}/{m}"] for m in good)
        pytest.fail(f"the router stopped routing after failing on one message: {handled}/20")
    dlq = topology.dead_letter_queue(topology.router_queue)
    try:
        async with asyncio.timeout(30):
            while (await queue_depths(hub, [dlq]))[dlq] < 1:
                await asyncio.sleep(0.2)
    except TimeoutError:
        pytest.fail(
            f"the message the router failed on was not dead-lettered in 30 s (router attempts: "
            f"{failures[poisoned]})"
        )
    assert 1 + len(FAST_RETRIES) <= failures[poisoned] <= DELIVERY_LIMIT + 1
    assert f"{LA}/{poisoned}" not in hub.handled
    depths = await queue_depths(hub, [topology.router_queue, dlq])
    assert depths == {topology.router_queue: 0, dlq: 1}
    parked = await get_one(hub.rabbitmq_url, dlq)
    assert parked is not None
    assert parked.message_id == poisoned
