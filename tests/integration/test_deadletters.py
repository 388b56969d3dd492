"""`cme-broker deadletters` on the real RabbitMQ: a poison message is dead-lettered, listed
(with its reason, never its payload), replayed after the fix and then processed; reading
loses and reorders nothing; a replay whose copy cannot be published leaves the dead letter
where it was."""

import asyncio
import io
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import aio_pika
import pytest
from aio_pika.abc import AbstractIncomingMessage
from prometheus_client import REGISTRY
from sqlalchemy.exc import OperationalError
from sqlmodel import Session
from typer.testing import CliRunner

from broker.cli.main import app
from broker.deadletters import (
    NoSuchQueue,
    list_dead_letters,
    replay_dead_letters,
    replay_headers,
    resolve_queue,
)
from broker.envelope import Opened
from broker.ledger import LedgerFilter, LedgerRecord
from broker.router import service as router_service
from broker.router.core import Decision
from broker.transport.deaths import DeadLetter
from broker.transport.headers import ATTEMPT_HEADER, PUBLISHER_HEADER, SENDER_HEADER
from broker.transport.publish import Publisher
from broker.transport.topology import Topology
from tests.integration.hub_harness import LA, SCHOOL, Hub, eventually, receipt_of

pytestmark = pytest.mark.rabbitmq

DELETION = "school.deletion_return"
FAST_RETRIES = (1, 1)
"""Short back-off, so a poison message is dead-lettered within seconds."""
DEAD_LETTERED_WITHIN_S = 60.0
Cli = Callable[..., Awaitable[str]]


@pytest.fixture
async def hub(tmp_path: Path, rabbitmq_url: str) -> AsyncIterator[Hub]:
    """A hub with a school and the LA, fast retries; its topology deleted afterwards."""
    hub = Hub(tmp_path, rabbitmq_url)
    hub.container.__dict__["topology"] = Topology(prefix=hub.prefix, retry_delays_s=FAST_RETRIES)
    hub.add_agencies([SCHOOL, LA])
    try:
        yield hub
    finally:
        await hub.stop()


@pytest.fixture
def cli(hub: Hub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """Run `cme-broker` on the hub's data directory and topology (in a thread: the command
    runs its own event loop). `cli(..., ok=False)` expects a failure."""
    monkeypatch.delenv("CME_DATABASE_URL", raising=False)
    monkeypatch.setenv("CME_TOPOLOGY_PREFIX", hub.prefix)
    monkeypatch.setenv("CME_RABBITMQ_URL", hub.rabbitmq_url)
    monkeypatch.setenv("COLUMNS", "250")
    runner = CliRunner()

    async def invoke(*args: str, ok: bool = True) -> str:
        result = await asyncio.to_thread(
            runner.invoke, app, ["--data-dir", str(tmp_path), "deadletters", *args]
        )
        output = result.output + (result.stderr if result.stderr_bytes is not None else "")
        assert (result.exit_code == 0) is ok, output
        return output

    return invoke


async def depth(url: str, queue: str) -> int:
    connection = await aio_pika.connect(url, timeout=15)
    async with connection:
        declared = await (await connection.channel()).declare_queue(queue, passive=True)
        return declared.declaration_result.message_count or 0


async def wait_for_depth(url: str, queue: str, expected: int, timeout_s: float) -> None:
    async with asyncio.timeout(timeout_s):
        while await depth(url, queue) != expected:
            await asyncio.sleep(0.2)


async def drain(url: str, queue: str) -> list[AbstractIncomingMessage]:
    """Take (and ack) every message of `queue`, in order."""
    connection = await aio_pika.connect(url, timeout=15)
    taken = []
    async with connection:
        source = await (await connection.channel()).get_queue(queue, ensure=False)
        while (message := await source.get(fail=False, timeout=10)) is not None:
            await message.ack()
            taken.append(message)
    return taken


async def put(url: str, queue: str, ids: list[str], headers: dict[str, str | int]) -> None:
    """Publish messages straight into `queue` (as if dead-lettered there)."""
    connection = await aio_pika.connect(url, timeout=15)
    async with connection:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        for message_id in ids:
            await Publisher(channel).publish(
                "", queue, b'{"secret": "payload"}', message_id=message_id, headers=headers
            )


def events_of(hub: Hub, message_id: str) -> list[str]:
    return [e.event for e in hub.container.ledger(signing=False).history(message_id)]


async def recorded_as_dead_letter(
    hub: Hub, message_id: str, queue: str, reason: str, deaths: int = 1
) -> None:
    """The router recorded each death in the ledger (once, with RabbitMQ's reason, the queue
    it died in and when, and the sender's justification), and acked the log queue's copy."""
    await eventually(lambda: events_of(hub, message_id).count("dead_lettered") >= deaths, 30)
    entries = hub.container.ledger(signing=False).history(message_id)
    dead = [e for e in entries if e.event == "dead_lettered"]
    assert len(dead) == deaths
    for entry in dead:
        assert (entry.sender, entry.recipient) == (SCHOOL, LA)
        assert entry.reason_code == reason
        assert re.fullmatch(rf"{re.escape(queue)} {reason} at \S+Z #1", entry.rule or ""), entry
        assert entry.justification is not None
    await wait_for_depth(hub.rabbitmq_url, hub.container.topology.dead_letter_log, 0, 30)


async def test_poison_message_in_an_inbox_is_listed_replayed_after_the_fix_and_processed(
    hub: Hub, cli: Cli
) -> None:
    await hub.start(clients=[SCHOOL], routers=1)
    poison: set[str] = set()

    def handler(_session: Session, opened: Opened) -> None:
        if str(opened.claims.jti) in poison:
            raise ValueError("this handler cannot cope with this message")
        hub.handled[f"{LA}/{opened.claims.jti}"] += 1

    client = hub.container.agency_client(LA, handler)
    await client.start()
    hub.clients[LA] = client
    sealed = hub.send_example(SCHOOL, LA, DELETION)  # returns before the pump publishes
    message_id = str(sealed.claims.jti)
    poison.add(message_id)
    queue = hub.container.topology.agency_queue(LA)
    await wait_for_depth(hub.rabbitmq_url, f"{queue}.dlq", 1, DEAD_LETTERED_WITHIN_S)
    await recorded_as_dead_letter(hub, message_id, queue, "delivery_limit")

    for _ in range(2):  # reading twice: still there, still one
        listing = await cli("list", "--queue", LA)
        assert f"{queue}.dlq: 1 message(s)" in listing
        assert message_id in listing
        assert "delivery_limit" in listing  # the reason
        assert sealed.envelope.jwe[:16] not in listing  # nothing of the payload
        assert sealed.envelope.header[:16] not in listing
    assert await depth(hub.rabbitmq_url, f"{queue}.dlq") == 1

    # Replayed before the fix: it dies again, and that second death is recorded too.
    replayed = await cli("replay", queue, "--message-id", message_id, "--yes")
    assert "replayed 1 message(s)" in replayed
    await recorded_as_dead_letter(hub, message_id, queue, "delivery_limit", deaths=2)
    await wait_for_depth(hub.rabbitmq_url, f"{queue}.dlq", 1, DEAD_LETTERED_WITHIN_S)

    poison.clear()  # the fix
    replayed = await cli("replay", queue, "--message-id", message_id, "--yes")
    assert "replayed 1 message(s)" in replayed
    await eventually(lambda: hub.handled[f"{LA}/{message_id}"] == 1)
    await eventually(lambda: receipt_of(hub, message_id) == ("accepted", None))
    assert await depth(hub.rabbitmq_url, f"{queue}.dlq") == 0
    await eventually(lambda: "receipted" in events_of(hub, message_id))
    assert events_of(hub, message_id) == ["routed", "dead_lettered", "dead_lettered", "receipted"]


async def test_poison_message_in_the_router_is_replayed_with_its_publisher(
    hub: Hub, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The router fails on one message until fixed; after its retries it is parked. Replayed,
    it comes back through the requeue exchange with its original publisher, which the router
    checks: it is routed and handled."""
    await hub.start(clients=[SCHOOL, LA], routers=1)
    poison: set[bytes] = set()
    (_, _, service) = hub._routers[0]
    core = service._core
    decide = core.decide_batch

    def failing(deliveries: Sequence[tuple[bytes, str | None]]) -> list[Decision]:
        if any(body in poison for body, _ in deliveries):
            raise ValueError("a bug on this message")
        return decide(deliveries)

    monkeypatch.setattr(core, "decide_batch", failing)
    sealed = hub.send_example(SCHOOL, LA, DELETION)  # returns before the pump publishes
    poison.add(sealed.to_json().encode())
    message_id = str(sealed.claims.jti)
    router_dlq = f"{hub.container.topology.router_queue}.dlq"
    await wait_for_depth(hub.rabbitmq_url, router_dlq, 1, DEAD_LETTERED_WITHIN_S)

    listing = await cli("list", "--queue", "router")
    assert message_id in listing
    assert "rejected" in listing
    await recorded_as_dead_letter(hub, message_id, hub.container.topology.router_queue, "rejected")

    poison.clear()
    assert "replayed 1 message(s)" in await cli("replay", "router", "--all", "--yes")
    await eventually(lambda: hub.handled[f"{LA}/{message_id}"] == 1)
    assert await depth(hub.rabbitmq_url, router_dlq) == 0
    # Decided afresh: the dead letter is not a decision the replay could be a duplicate of.
    assert events_of(hub, message_id)[:2] == ["dead_lettered", "routed"]


async def test_each_dead_letter_is_recorded_once_and_an_unverifiable_one_as_unauthenticated(
    hub: Hub,
) -> None:
    """The log queue is at-least-once: a copy that comes round again adds nothing. A body
    whose header does not verify is recorded without any of its claims."""
    await hub.start(clients=[SCHOOL], routers=1)
    sealed = hub.send_example(SCHOOL, LA, DELETION)
    message_id = str(sealed.claims.jti)
    queue = hub.container.topology.agency_queue(LA)
    death = {"queue": queue, "reason": "rejected", "count": 1}
    log_queue = hub.container.topology.dead_letter_log
    connection = await aio_pika.connect(hub.rabbitmq_url, timeout=15)
    async with connection:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        for body in (sealed.to_json().encode(), sealed.to_json().encode(), b"not an envelope"):
            message = aio_pika.Message(body, message_id=message_id, headers={"x-death": [death]})
            await channel.default_exchange.publish(message, log_queue)

    def unverified() -> list[dict[str, str]]:
        out = io.StringIO()
        ledger = hub.container.ledger(signing=False)
        ledger.export(LedgerFilter(agency="unauthenticated"), "json", out)
        return cast(list[dict[str, str]], json.loads(out.getvalue()))

    await eventually(lambda: bool(unverified()), 30)
    await eventually(lambda: "dead_lettered" in events_of(hub, message_id), 30)
    await wait_for_depth(hub.rabbitmq_url, log_queue, 0, 30)
    assert events_of(hub, message_id).count("dead_lettered") == 1
    recorded = unverified()
    assert [(e["event"], e["reason_code"]) for e in recorded] == [("dead_lettered", "rejected")]
    assert recorded[0]["message_id"] != message_id  # its claimed id is not trusted


async def test_a_dead_letter_is_recorded_after_the_database_is_back_and_a_bug_does_not_loop(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A transient failure (the database) gives the copy back to be tried again; anything
    else gives it up (the original stays in its `.dlq`), so no copy loops for ever. Both are
    counted for the alert."""
    monkeypatch.setattr(router_service, "DEAD_LETTER_RETRY_S", 0.1)
    await hub.start(clients=[SCHOOL], routers=1)
    (_, _, service) = hub._routers[0]
    core = service._core
    record = core.dead_letter_record
    failures = {"transient": 2, "bug": 1}

    def failing(body: bytes, death: DeadLetter) -> LedgerRecord | None:
        if death.reason == "rejected" and failures["transient"]:
            failures["transient"] -= 1
            raise OperationalError("SELECT", {}, Exception("database is locked"))
        if death.reason == "expired" and failures["bug"]:
            failures["bug"] -= 1
            raise ValueError("a bug on this copy")
        return record(body, death)

    monkeypatch.setattr(core, "dead_letter_record", failing)
    before = REGISTRY.get_sample_value("cme_dead_letters_unrecorded_total") or 0.0
    retried = hub.send_example(SCHOOL, LA, DELETION)
    given_up = hub.send_example(SCHOOL, LA, DELETION)
    queue = hub.container.topology.agency_queue(LA)
    log_queue = hub.container.topology.dead_letter_log
    connection = await aio_pika.connect(hub.rabbitmq_url, timeout=15)
    async with connection:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        for sealed, reason in ((retried, "rejected"), (given_up, "expired")):
            death = {"queue": queue, "reason": reason, "count": 1}
            message = aio_pika.Message(sealed.to_json().encode(), headers={"x-death": [death]})
            await channel.default_exchange.publish(message, log_queue)

    await eventually(lambda: "dead_lettered" in events_of(hub, str(retried.claims.jti)), 30)
    await eventually(lambda: failures == {"transient": 0, "bug": 0}, 30)
    await wait_for_depth(hub.rabbitmq_url, log_queue, 0, 30)
    assert "dead_lettered" not in events_of(hub, str(given_up.claims.jti))
    after = REGISTRY.get_sample_value("cme_dead_letters_unrecorded_total") or 0.0
    assert after - before == 3


async def test_reading_and_a_selective_replay_keep_the_order_of_the_rest(hub: Hub) -> None:
    """Three dead letters; listing twice changes nothing; replaying the middle one leaves the
    other two in order, and the copy arrives with its headers but a fresh retry count."""
    await hub.container.declare_topology()
    url, topology = hub.rabbitmq_url, hub.container.topology
    queue = topology.agency_queue(LA)  # nobody consumes it
    ids = ["m1", "m2", "m3"]
    await put(url, f"{queue}.dlq", ids, {SENDER_HEADER: SCHOOL, ATTEMPT_HEADER: 2})

    for _ in range(2):
        (listing,) = await list_dead_letters(url, [f"{queue}.dlq"], limit=2)
        assert listing.count == 3
        assert [letter.message_id for letter in listing.letters] == ["m1", "m2"]
        assert listing.letters[0].retries == 2
    outcome = await replay_dead_letters(url, topology, queue, {"m2", "m9"}, limit=10)
    assert (outcome.replayed, outcome.failed, outcome.not_found) == (["m2"], [], ["m9"])

    await wait_for_depth(url, queue, 1, 30)  # through the first retry's wait queue
    (copy,) = await drain(url, queue)
    assert copy.message_id == "m2"
    assert copy.body == b'{"secret": "payload"}'
    assert (copy.headers or {}).get(SENDER_HEADER) == SCHOOL
    assert ATTEMPT_HEADER not in (copy.headers or {})
    assert [m.message_id for m in await drain(url, f"{queue}.dlq")] == ["m1", "m3"]


async def test_a_replay_that_cannot_be_published_leaves_the_dead_letter(hub: Hub, cli: Cli) -> None:
    """With the first retry's wait queue gone, the copy is unroutable: the publish fails, the
    command exits 1, and the dead letter is still there."""
    await hub.container.declare_topology()
    url, topology = hub.rabbitmq_url, hub.container.topology
    queue = topology.agency_queue(LA)
    await put(url, f"{queue}.dlq", ["stuck"], {})
    connection = await aio_pika.connect(url, timeout=15)
    async with connection:
        await (await connection.channel()).queue_delete(topology.wait_queue(FAST_RETRIES[0]))

    output = await cli("replay", queue, "--all", "--yes", ok=False)
    assert "replayed 0 message(s)" in output
    assert "not replayed" in output
    assert "stuck" in output
    assert [m.message_id for m in await drain(url, f"{queue}.dlq")] == ["stuck"]


# -- the replayed copy's headers (no broker) -------------------------------------------------


TOPOLOGY = Topology(prefix="cme")
PUBLISHER, FORGED = "school.3304000", "la.330"


def dead_letter(
    user_id: str | None, died_after: str, headers: dict[str, object]
) -> AbstractIncomingMessage:
    """A stand-in for a dead letter of the router queue (only what `replay_headers` reads)."""
    death = {"queue": TOPOLOGY.router_queue, "reason": "rejected", "exchange": died_after}
    message = SimpleNamespace(user_id=user_id, headers={**headers, "x-death": [death]})
    return cast(AbstractIncomingMessage, message)


def test_the_copy_keeps_the_brokers_headers_but_not_rabbitmqs_nor_the_retry_count() -> None:
    rabbitmqs = {"x-first-death-queue": "q", "x-delivery-count": 3}
    message = dead_letter(
        PUBLISHER, TOPOLOGY.ingress, {SENDER_HEADER: SCHOOL, ATTEMPT_HEADER: 5, **rabbitmqs}
    )
    assert replay_headers(message, TOPOLOGY, TOPOLOGY.agency_queue(LA)) == {SENDER_HEADER: SCHOOL}


def test_the_router_copy_names_the_publisher_rabbitmq_validated() -> None:
    message = dead_letter(PUBLISHER, TOPOLOGY.ingress, {PUBLISHER_HEADER: FORGED})
    headers = replay_headers(message, TOPOLOGY, TOPOLOGY.router_queue)
    assert headers[PUBLISHER_HEADER] == PUBLISHER


def test_the_router_copy_keeps_the_routers_own_publisher_header() -> None:
    """A router retry copy has no user_id: its header was set by the router, and it died
    after coming back through the requeue exchange."""
    message = dead_letter(None, TOPOLOGY.requeue, {PUBLISHER_HEADER: PUBLISHER})
    headers = replay_headers(message, TOPOLOGY, TOPOLOGY.router_queue)
    assert headers[PUBLISHER_HEADER] == PUBLISHER


def test_a_publisher_header_from_anyone_else_is_dropped() -> None:
    """Published to the ingress without a user_id and a header of its own: replaying must not
    turn that header into one the router trusts."""
    message = dead_letter(None, TOPOLOGY.ingress, {PUBLISHER_HEADER: FORGED})
    assert PUBLISHER_HEADER not in replay_headers(message, TOPOLOGY, TOPOLOGY.router_queue)


def test_only_this_hubs_work_queues_can_be_named() -> None:
    agencies = [SCHOOL, LA]
    la_queue = TOPOLOGY.agency_queue(LA)
    assert resolve_queue(TOPOLOGY, agencies, "router") == TOPOLOGY.router_queue
    assert resolve_queue(TOPOLOGY, agencies, LA) == la_queue
    assert resolve_queue(TOPOLOGY, agencies, f"{la_queue}.dlq") == la_queue
    for name in ("health:M85001", TOPOLOGY.refused_queue, TOPOLOGY.wait_queue(1), "other.q"):
        with pytest.raises(NoSuchQueue):
            resolve_queue(TOPOLOGY, agencies, name)
