"""The hub's metrics without a broker: bounded labels, latency, the SLA cutoff, and a sampler
that survives an outage with its last values."""

import asyncio
import re
import socket
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import StaticPool
from sqlmodel import SQLModel

from broker import metrics
from broker.agreements.errors import REFUSAL_REASONS
from broker.envelope import OuterClaims
from broker.ledger.rows import ENTRY
from broker.metrics_sampler import HubSampler, SamplerConfig, overdue_cutoff
from broker.transport.topology import Topology
from schemas.examples import example_justification
from tests.clock import Clock

ROOT = Path(__file__).resolve().parents[2]
LA, HEALTH = "la:330", "health:M85001"
ENQUIRY = "cme.locate_enquiry"


def value(name: str, **labels: str) -> float:
    """A sample's current value (0 when the series does not exist yet)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


def claims(message_type: str = ENQUIRY, iat: int = 1_800_000_000) -> OuterClaims:
    return OuterClaims(
        jti=uuid.uuid4(),
        iss=LA,
        aud=HEALTH,
        iat=iat,
        exp=iat + 3600,
        cme_type=message_type,
        cme_ver=1,
        justification=example_justification(ENQUIRY, sender=LA, recipient=HEALTH),
        jwe_sha256="A" * 43,
    )


# -- labels ----------------------------------------------------------------------------------


def test_message_type_labels_are_a_closed_set() -> None:
    assert metrics.type_label("school.deletion_return") == "school.deletion_return"
    assert metrics.type_label("receipt") == "receipt"
    assert metrics.type_label(None) == "unknown"
    assert metrics.type_label("made.up") == "other"


def test_reason_labels_are_a_closed_set() -> None:
    for reason in ("bad_signature", "expired", "publisher_mismatch", *REFUSAL_REASONS):
        assert metrics.reason_label(reason) == reason
    assert metrics.reason_label("Jane Smith 2015-03-01") == "other"


def test_every_reason_the_router_gives_is_a_known_label() -> None:
    """The router's own codes are literals in its core: a new one must be added to the set."""
    source = (ROOT / "broker" / "router" / "core.py").read_text()
    given = set(re.findall(r'Refuse\(\s*"([a-z_]+)"', source))
    assert given, "no Refuse(...) literals found: has the router changed shape?"
    assert given <= metrics.ROUTER_REASONS


def test_routed_counts_and_observes_latency_clamped_at_zero() -> None:
    before = (
        value("cme_messages_routed_total", message_type=ENQUIRY),
        value("cme_delivery_latency_seconds_count"),
        value("cme_delivery_latency_seconds_sum"),
    )
    issued = claims(iat=1_800_000_000)
    metrics.count_routed(issued, datetime.fromtimestamp(1_800_000_002.5, UTC))
    metrics.count_routed(issued, datetime.fromtimestamp(1_799_999_990, UTC))  # clock skew
    assert value("cme_messages_routed_total", message_type=ENQUIRY) == before[0] + 2
    assert value("cme_delivery_latency_seconds_count") == before[1] + 2
    assert value("cme_delivery_latency_seconds_sum") == pytest.approx(before[2] + 2.5)


def test_refused_labels_unauthenticated_and_unexpected_values() -> None:
    unknown = {"message_type": "unknown", "reason": "malformed"}
    odd = {"message_type": "other", "reason": "other"}
    before = (
        value("cme_messages_refused_total", **unknown),
        value("cme_messages_refused_total", **odd),
    )
    metrics.count_refused(None, "malformed")
    metrics.count_refused(claims("made.up"), "not_a_reason_we_know")
    assert value("cme_messages_refused_total", **unknown) == before[0] + 1
    assert value("cme_messages_refused_total", **odd) == before[1] + 1


# -- the SLA cutoff --------------------------------------------------------------------------


def test_an_enquiry_is_overdue_from_the_day_after_its_fifth_working_day() -> None:
    """Sent Monday 2 November 2026: respond by Monday 9th, overdue from Tuesday 10th."""
    sent = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
    late_monday = datetime(2026, 11, 9, 23, 59, tzinfo=UTC)  # GMT: London time too
    tuesday = datetime(2026, 11, 10, 0, 0, 1, tzinfo=UTC)
    assert not sent < overdue_cutoff(late_monday, 5)
    assert sent < overdue_cutoff(tuesday, 5)


def test_bank_holidays_are_not_working_days() -> None:
    """Sent Wednesday 23 December 2026: Christmas Day, Monday 28th (Boxing Day's substitute),
    New Year's Day and the weekends do not count, so the fifth working day is Monday 4 January
    2027; overdue on Tuesday 5th."""
    sent = datetime(2026, 12, 23, 10, 0, tzinfo=UTC)
    assert not sent < overdue_cutoff(datetime(2027, 1, 4, 18, 0, tzinfo=UTC), 5)
    assert sent < overdue_cutoff(datetime(2027, 1, 5, 9, 0, tzinfo=UTC), 5)


def test_the_cutoff_is_midnight_in_england_given_in_utc() -> None:
    """In summer time an English day starts at 23:00 UTC the day before."""
    cutoff = overdue_cutoff(datetime(2026, 7, 10, 12, 0, tzinfo=UTC), 1)  # a Friday
    assert cutoff == datetime(2026, 7, 8, 23, 0, tzinfo=UTC)  # Thursday 9th, 00:00 BST
    assert cutoff.tzinfo is UTC


# -- the sampler in an outage ----------------------------------------------------------------


def closed_port_url() -> str:
    """An AMQP URL nothing listens on (a port just released by the OS)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"amqp://guest:guest@127.0.0.1:{port}/"


def unavailable_sampler(clock: Clock) -> tuple[HubSampler, Topology]:
    """RabbitMQ unreachable and a database without the ledger's tables: both sources fail."""
    topology = Topology(prefix=f"u{uuid.uuid4().hex[:12]}")
    config = SamplerConfig(closed_port_url(), topology, timeout_s=2.0)
    engine = create_engine("sqlite://")  # in memory, empty: every query fails
    return HubSampler(config, lambda: [LA], engine, clock), topology


async def test_an_unreachable_source_keeps_the_last_values_and_counts_the_failure() -> None:
    sampler, topology = unavailable_sampler(Clock())
    la_queue = topology.agency_queue(LA)
    metrics.QUEUE_MESSAGES.labels(queue=la_queue).set(7)
    metrics.DEAD_LETTERS.labels(queue=topology.dead_letter_queue(la_queue)).set(2)
    metrics.ENQUIRIES_OVERDUE.set(3)
    stamps = {s: value("cme_metrics_sample_timestamp_seconds", source=s) for s in metrics.SOURCES}
    failures = {s: value("cme_metrics_sample_failures_total", source=s) for s in metrics.SOURCES}

    await asyncio.wait_for(sampler.sample_once(), 30)

    assert value("cme_queue_messages", queue=la_queue) == 7
    assert value("cme_dead_letters", queue=topology.dead_letter_queue(la_queue)) == 2
    assert value("cme_enquiries_overdue") == 3
    for source in metrics.SOURCES:
        assert value("cme_metrics_sample_timestamp_seconds", source=source) == stamps[source]
        assert value("cme_metrics_sample_failures_total", source=source) == failures[source] + 1
    metrics.QUEUE_MESSAGES.remove(la_queue)
    metrics.DEAD_LETTERS.remove(topology.dead_letter_queue(la_queue))


async def test_a_directory_outage_is_a_failed_sample_too() -> None:
    def broken_directory() -> list[str]:
        raise OperationalError("SELECT", {}, Exception("database is down"))

    config = SamplerConfig(closed_port_url(), Topology(prefix="unused"), timeout_s=2.0)
    sampler = HubSampler(config, broken_directory, create_engine("sqlite://"), Clock())
    before = value("cme_metrics_sample_failures_total", source="queues")
    await asyncio.wait_for(sampler.sample_once(), 30)
    assert value("cme_metrics_sample_failures_total", source="queues") == before + 1


async def test_run_keeps_sampling_through_an_outage_until_stopped() -> None:
    sampler, _ = unavailable_sampler(Clock())
    before = value("cme_metrics_sample_failures_total", source="ledger")
    stop = asyncio.Event()
    task = asyncio.create_task(sampler.run(stop, interval_s=0.01))
    async with asyncio.timeout(30):
        while value("cme_metrics_sample_failures_total", source="ledger") < before + 3:
            await asyncio.sleep(0.01)
    assert not task.done()  # an outage never ends the loop
    stop.set()
    await asyncio.wait_for(task, 10)
    assert task.exception() is None


async def test_a_successful_sample_is_dated_by_the_injected_clock() -> None:
    """Staleness is judged from this timestamp. An empty ledger: nothing overdue."""
    clock = Clock()
    clock.now += timedelta(days=1)
    engine = create_engine(
        "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
    )
    SQLModel.metadata.create_all(engine, tables=[ENTRY])
    config = SamplerConfig(closed_port_url(), Topology(prefix="unused"), timeout_s=2.0)
    metrics.ENQUIRIES_OVERDUE.set(5)
    await asyncio.wait_for(HubSampler(config, lambda: [], engine, clock).sample_once(), 30)
    assert value("cme_enquiries_overdue") == 0
    assert value("cme_metrics_sample_timestamp_seconds", source="ledger") == (clock.now.timestamp())
