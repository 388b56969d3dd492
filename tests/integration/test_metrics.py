"""The hub's metrics on the real RabbitMQ and database: the router counts what it routed and
refused (once each), the sampler reads queue depths and dead letters, and the ledger tells
which locate enquiries are overdue.

Metrics live on the process-wide default registry, so every check compares a value before
and after what the test did.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import aio_pika
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import Engine

from broker.envelope import Draft, Sealed
from broker.ledger import LedgerEvent, LedgerRecord, SqlLedger
from broker.metrics_sampler import HubSampler, SamplerConfig
from broker.transport.publish import Publisher
from broker.transport.topology import Topology, routing_word
from schemas.examples import example_justification, example_payload
from tests.clock import Clock
from tests.integration.hub_harness import (
    HEALTH,
    HOUSING,
    LA,
    SCHOOL,
    Hub,
    eventually,
    publish_raw,
    receipt_of,
)

pytestmark = pytest.mark.rabbitmq

DELETION = "school.deletion_return"
ENQUIRY, RESPONSE = "cme.locate_enquiry", "cme.locate_response"


def value(name: str, **labels: str) -> float:
    """A sample's current value (0 when the series does not exist yet)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


def sampled(name: str, **labels: str) -> float | None:
    """A sample's current value, None when there is no such series."""
    return REGISTRY.get_sample_value(name, labels)


class Deltas:
    """Values of some samples now, to compare with later."""

    def __init__(self, samples: dict[str, tuple[str, dict[str, str]]]) -> None:
        self._samples = samples
        self._before = {key: value(name, **labels) for key, (name, labels) in samples.items()}

    def __call__(self, key: str) -> float:
        name, labels = self._samples[key]
        return value(name, **labels) - self._before[key]


@pytest.fixture
async def hub(tmp_path: Path, rabbitmq_url: str) -> AsyncIterator[Hub]:
    hub = Hub(tmp_path, rabbitmq_url)
    hub.add_agencies()
    await hub.start()
    yield hub
    await hub.stop()


def seal(hub: Hub, sender: str, recipient: str = LA) -> Sealed:
    payload = example_payload(DELETION)
    justification = example_justification(DELETION, sender=sender, recipient=recipient)
    return hub.container.sealer(sender).seal(Draft(recipient, DELETION, payload, justification))


async def test_the_router_counts_each_route_and_refusal_once(hub: Hub) -> None:
    deltas = Deltas(
        {
            "routed": ("cme_messages_routed_total", {"message_type": DELETION}),
            "receipts": ("cme_messages_routed_total", {"message_type": "receipt"}),
            "refused": (
                "cme_messages_refused_total",
                {"message_type": DELETION, "reason": "message_type_not_permitted"},
            ),
            "garbage": (
                "cme_messages_refused_total",
                {"message_type": "unknown", "reason": "malformed"},
            ),
            "latencies": ("cme_delivery_latency_seconds_count", {}),
            "latency_sum": ("cme_delivery_latency_seconds_sum", {}),
        }
    )
    routed = hub.send_example(SCHOOL, LA, DELETION)
    await eventually(lambda: receipt_of(hub, str(routed.claims.jti)) == ("accepted", None))
    refused = seal(hub, HEALTH)  # no agreement lets health send a deletion return
    jti = str(refused.claims.jti)
    await publish_raw(hub, HEALTH, refused.to_json().encode(), message_id=jti)
    await eventually(lambda: receipt_of(hub, jti) == ("rejected", "message_type_not_permitted"))
    # The same envelope again: routed again (a redelivery), but counted once.
    await publish_raw(hub, SCHOOL, routed.to_json().encode())
    # One router takes batches in order: once this is counted, so is everything before it.
    await publish_raw(hub, SCHOOL, b"not json")
    await eventually(lambda: deltas("garbage") == 1)

    assert deltas("routed") == 1
    assert deltas("receipts") == 1  # the LA's receipt to the school
    assert deltas("refused") == 1  # the hub's refusal receipt to health is not a route
    assert deltas("latencies") == 2
    assert 0 <= deltas("latency_sum") < 60


# -- the sampler: queues ---------------------------------------------------------------------


async def publish_to_queue(url: str, exchange: str, routing_key: str, count: int) -> None:
    connection = await aio_pika.connect(url, timeout=15)
    async with connection:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        publisher = Publisher(channel)
        for n in range(count):
            await publisher.publish(exchange, routing_key, b"{}", message_id=f"m{n}")


async def sample_until(
    sampler: HubSampler, check: Callable[[], bool], timeout_s: float = 30
) -> None:
    """Sample until `check()` holds (a quorum queue's count can trail its confirms)."""
    async with asyncio.timeout(timeout_s):
        while True:
            await sampler.sample_once()
            if check():
                return
            await asyncio.sleep(0.1)


async def test_the_sampler_reads_queue_depths_and_dead_letters(
    tmp_path: Path, rabbitmq_url: str
) -> None:
    """Three messages wait in the health queue (nobody consumes it), two in the LA queue's
    dead-letter queue; an agency whose queues were never declared has no series at all, nor
    does a queue once it is deleted."""
    hub = Hub(tmp_path, rabbitmq_url)
    hub.add_agencies([SCHOOL, LA, HEALTH])
    await hub.container.declare_topology()
    hub.add_agencies([HOUSING])  # in the directory, no queues yet
    topology = hub.container.topology
    health_queue, la_dlq = topology.agency_queue(HEALTH), f"{topology.agency_queue(LA)}.dlq"
    sampler = hub.container.hub_sampler()
    try:
        await publish_to_queue(rabbitmq_url, topology.deliver, routing_word(HEALTH), 3)
        await publish_to_queue(rabbitmq_url, "", la_dlq, 2)
        failures = value("cme_metrics_sample_failures_total", source="queues")
        await sample_until(
            sampler,
            lambda: (
                (sampled("cme_queue_messages", queue=health_queue) == 3)
                and (sampled("cme_dead_letters", queue=la_dlq) == 2)
            ),
        )
        assert sampled("cme_queue_messages", queue=topology.router_queue) == 0
        assert sampled("cme_queue_messages", queue=topology.refused_queue) == 0
        assert sampled("cme_queue_messages", queue=topology.dead_letter_log) == 0
        assert sampled("cme_dead_letters", queue=f"{topology.router_queue}.dlq") == 0
        assert sampled("cme_queue_messages", queue=topology.agency_queue(HOUSING)) is None
        assert sampled("cme_dead_letters", queue=f"{topology.agency_queue(HOUSING)}.dlq") is None
        assert value("cme_metrics_sample_failures_total", source="queues") == failures
        assert value("cme_metrics_sample_timestamp_seconds", source="queues") > 0
        # A queue that goes away loses its series (no stale value for a removed agency).
        connection = await aio_pika.connect(rabbitmq_url, timeout=15)
        async with connection:
            await (await connection.channel()).queue_delete(health_queue)
        await sampler.sample_once()
        assert sampled("cme_queue_messages", queue=health_queue) is None
        assert sampled("cme_dead_letters", queue=la_dlq) == 2
    finally:
        await sampler.close()
        await hub.delete_topology()


# -- the sampler: overdue enquiries ----------------------------------------------------------


def enquiry(ledger: SqlLedger, sender: str, recipient: str) -> str:
    """Record a routed locate enquiry; its id."""
    return record(ledger, LedgerEvent.ROUTED, ENQUIRY, sender, recipient)


def record(
    ledger: SqlLedger,
    event: LedgerEvent,
    message_type: str,
    sender: str,
    recipient: str,
    answers: str | None = None,
) -> str:
    message_id = str(uuid.uuid4())
    ledger.append(
        LedgerRecord(
            event=event,
            message_id=message_id,
            sender=sender,
            recipient=recipient,
            message_type=message_type,
            schema_version=1,
            jwe_sha256="",
            reason_code="schema_invalid" if event == LedgerEvent.REFUSED else None,
            related_message_id=answers,
        )
    )
    return message_id


def ledger_sampler(engine: Engine, clock: Clock, rabbitmq_url: str) -> HubSampler:
    """A sampler of `engine` whose queues do not exist (a fresh topology prefix, no agency)."""
    config = SamplerConfig(rabbitmq_url, Topology(prefix=f"t{uuid.uuid4().hex[:12]}"))
    return HubSampler(config, lambda: [], engine, clock)


async def test_overdue_enquiries_are_the_unanswered_ones_past_the_sla(
    engine: Engine, clock: Clock, rabbitmq_url: str
) -> None:
    """Monday 2 November 2026: four enquiries go out. One is answered by its recipient; one
    gets an answer from another agency, one a response the hub refused (neither counts). On
    Tuesday 10th (five working days later) the three unanswered ones are overdue; an enquiry
    sent that Tuesday is not."""
    ledger = SqlLedger(engine, None, clock=clock)
    enquiry(ledger, LA, HEALTH)  # never answered
    answered = enquiry(ledger, LA, HOUSING)
    record(ledger, LedgerEvent.ROUTED, RESPONSE, HOUSING, LA, answers=answered)
    wrong_party = enquiry(ledger, LA, HEALTH)
    record(ledger, LedgerEvent.ROUTED, RESPONSE, HOUSING, LA, answers=wrong_party)
    refused_answer = enquiry(ledger, LA, HEALTH)
    record(ledger, LedgerEvent.REFUSED, RESPONSE, HEALTH, LA, answers=refused_answer)
    record(ledger, LedgerEvent.REFUSED, ENQUIRY, LA, HEALTH)  # never routed: never overdue
    sampler = ledger_sampler(engine, clock, rabbitmq_url)
    try:
        clock.now += timedelta(days=7, hours=14)  # Monday 9th, 23:00: due today, not late
        await sampler.sample_once()
        assert value("cme_enquiries_overdue") == 0
        clock.now += timedelta(hours=2)  # Tuesday 10th, 01:00
        enquiry(ledger, LA, HEALTH)  # sent today
        await sampler.sample_once()
        assert value("cme_enquiries_overdue") == 3
        assert value("cme_metrics_sample_timestamp_seconds", source="ledger") == (
            clock.now.timestamp()
        )
    finally:
        await sampler.close()
