"""`HubSampler`: refreshes the hub's gauges (queue depths, dead letters, overdue enquiries).

Counters are kept by the router as it works; gauges describe state held elsewhere, so a
sampler reads it every few seconds: RabbitMQ by passive queue declares (which report a
queue's ready messages without touching them), the ledger by one SQL query. An outage of
either is logged and counted, never raised, and the gauges keep their last values; the
`cme_metrics_sample_timestamp_seconds{source}` gauge shows how old they are.
"""

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Final
from zoneinfo import ZoneInfo

import aio_pika
import aiormq
import holidays
import structlog
from aio_pika.abc import AbstractConnection
from sqlalchemy import Engine, and_, exists, func, select
from sqlalchemy.exc import SQLAlchemyError

from broker import metrics
from broker.clock import Clock
from broker.errors import BrokerError
from broker.ledger import LedgerEvent
from broker.ledger.rows import ENTRY
from broker.transport.topology import Topology
from schemas.messages.cme import LOCATE_ENQUIRY, LOCATE_RESPONSE

log = structlog.get_logger(__name__)
LA_TIME_ZONE: Final = ZoneInfo("Europe/London")
"""Working days are the LA's: a day starts at midnight in England, not UTC."""
OUTAGES: Final = (aiormq.exceptions.AMQPError, ConnectionError, OSError, TimeoutError, RuntimeError)
"""What an unavailable or restarting RabbitMQ raises (aio-pika: RuntimeError when closing)."""
DATABASE_OUTAGES: Final = (SQLAlchemyError, BrokerError)


@dataclass(frozen=True)
class SamplerConfig:
    """Where to sample and how. `enquiry_sla_working_days`: the locate-enquiry response SLA
    (the LA default of 5 working days, `shared/domain/timescales.md`)."""

    amqp_url: str
    topology: Topology
    enquiry_sla_working_days: int = 5
    timeout_s: float = 10.0


class HubSampler:
    """Refreshes the hub's gauges in `broker.metrics`; one instance per hub process.

    `agencies` lists the agency ids in the directory (their queues are sampled); `engine` is
    the hub's database (the ledger's tables); `clock` dates the samples and the SLA.
    """

    def __init__(
        self,
        config: SamplerConfig,
        agencies: Callable[[], list[str]],
        engine: Engine,
        clock: Clock,
    ) -> None:
        self._config = config
        self._agencies = agencies
        self._engine = engine
        self._clock = clock
        self._connection: AbstractConnection | None = None
        self._series: set[str] = set()
        """Queues this sampler has a series for (to drop those of a removed agency)."""

    async def run(self, stop: asyncio.Event, interval_s: float = 15.0) -> None:
        """Sample every `interval_s` until `stop` is set; never raises for an outage (nor for a
        bug in one sample: the next one is tried all the same)."""
        try:
            while not stop.is_set():
                try:
                    await self.sample_once()
                except Exception as exc:  # keep sampling: a metrics bug must not stop the hub
                    log.error("metrics.sample_error", error=type(exc).__name__)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), interval_s)
        finally:
            await self.close()

    async def sample_once(self) -> None:
        """Refresh every gauge once; a source that is unavailable keeps its last values."""
        await self._sample_queues()
        await self._sample_overdue()

    async def close(self) -> None:
        """Close the AMQP connection, if open."""
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(*OUTAGES):
                await connection.close()

    # -- RabbitMQ ------------------------------------------------------------------------

    async def _sample_queues(self) -> None:
        try:
            # On the event loop, not a thread: it may share the router's directory cache.
            work, dead = self._queue_names(self._agencies())
            async with asyncio.timeout(self._config.timeout_s):
                depths = await self._depths([*work, *dead])
        except (*OUTAGES, *DATABASE_OUTAGES) as exc:
            await self.close()  # a fresh connection next time
            self._failed("queues", exc)
            return
        self._publish_depths(depths, dead)
        self._succeeded("queues")

    def _publish_depths(self, depths: dict[str, int | None], dead: list[str]) -> None:
        """Set every queue's gauge at once (the gauges never mix two samples); a queue that
        does not exist (not declared yet, or its agency removed) has no series."""
        current = {name for name, depth in depths.items() if depth is not None}
        for name in self._series - current:
            for gauge in (metrics.QUEUE_MESSAGES, metrics.DEAD_LETTERS):
                with contextlib.suppress(KeyError):
                    gauge.remove(name)
        for name, depth in depths.items():
            if depth is not None:
                gauge = metrics.DEAD_LETTERS if name in dead else metrics.QUEUE_MESSAGES
                gauge.labels(queue=name).set(depth)
        self._series = current

    def _queue_names(self, agencies: list[str]) -> tuple[list[str], list[str]]:
        """(Work queues, the refused queue and the dead-letter log, dead-letter queues) of
        these agencies. The log should stay empty: a growing one is dead letters the router
        cannot record in the ledger."""
        topology = self._config.topology
        work = topology.work_queues(agencies)
        queues = [*work, topology.refused_queue, topology.dead_letter_log]
        return queues, [topology.dead_letter_queue(q) for q in work]

    async def _depths(self, names: list[str]) -> dict[str, int | None]:
        """Ready messages per queue; None for a queue that does not exist."""
        connection = await self._connect()
        channel = await connection.channel()
        depths: dict[str, int | None] = {}
        try:
            for name in names:
                try:
                    queue = await channel.declare_queue(name, passive=True)
                except aiormq.exceptions.ChannelNotFoundEntity:
                    depths[name] = None
                    # A failed passive declare closes the channel (AMQP): carry on in a new one.
                    channel = await connection.channel()
                    continue
                depths[name] = queue.declaration_result.message_count or 0
        finally:
            with contextlib.suppress(*OUTAGES):
                await channel.close()
        return depths

    async def _connect(self) -> AbstractConnection:
        """One connection, kept between samples (not robust: a failed sample reconnects)."""
        if self._connection is None or self._connection.is_closed:
            self._connection = await aio_pika.connect(
                self._config.amqp_url, timeout=self._config.timeout_s
            )
        return self._connection

    # -- the ledger ----------------------------------------------------------------------

    async def _sample_overdue(self) -> None:
        cutoff = overdue_cutoff(self._clock(), self._config.enquiry_sla_working_days)
        try:
            overdue = await asyncio.to_thread(count_overdue_enquiries, self._engine, cutoff)
        except DATABASE_OUTAGES as exc:
            self._failed("ledger", exc)
            return
        metrics.ENQUIRIES_OVERDUE.set(overdue)
        self._succeeded("ledger")

    # -- bookkeeping ---------------------------------------------------------------------

    def _succeeded(self, source: str) -> None:
        metrics.SAMPLE_TIMESTAMP.labels(source=source).set(self._clock().timestamp())

    @staticmethod
    def _failed(source: str, exc: BaseException) -> None:
        # The error's type only: a message could name a host, a user or a queue's contents.
        log.warning("metrics.sample_failed", source=source, error=type(exc).__name__)
        metrics.SAMPLE_FAILURES.labels(source=source).inc()


def count_overdue_enquiries(engine: Engine, cutoff: datetime) -> int:
    """Locate enquiries routed before `cutoff` with no routed locate response, in one query.

    What the ledger can tell: the hub never reads payloads, so it cannot see an enquiry's own
    `respond_by` (nor its risk flags, which shorten the SLA to 2 working days); `cutoff`
    applies the LA's default SLA to the time the hub routed the enquiry (see
    `overdue_cutoff`). A response links to its enquiry through the envelope's
    `causation_id`, which the router records as the response's `related_message_id`; only a
    response the hub routed counts (a refused one answered nothing), and only one from the
    enquiry's recipient back to its sender. An enquiry routed with several causation ids has
    one entry per id: it is counted once. Indexes used: `recorded_at` for the enquiries,
    `related_message_id` for their responses.
    """
    enquiry = ENTRY.alias("enquiry")
    response = ENTRY.alias("response")
    answered = exists().where(
        and_(
            response.c.event == LedgerEvent.ROUTED.value,
            response.c.message_type == LOCATE_RESPONSE,
            response.c.related_message_id == enquiry.c.message_id,
            response.c.sender == enquiry.c.recipient,
            response.c.recipient == enquiry.c.sender,
        )
    )
    query = select(func.count(func.distinct(enquiry.c.message_id))).where(
        enquiry.c.event == LedgerEvent.ROUTED.value,
        enquiry.c.message_type == LOCATE_ENQUIRY,
        enquiry.c.recorded_at < cutoff,
        ~answered,
    )
    with engine.connect() as connection:
        return int(connection.execute(query).scalar_one())


def overdue_cutoff(now: datetime, sla_working_days: int) -> datetime:
    """The routing time before which an unanswered enquiry is overdue at `now`.

    As the LA's desk computes it: `respond_by` is the SLA's last working day after the day
    the enquiry went out, and it is overdue from the day after `respond_by`. So an enquiry is
    overdue when it went out before the `sla_working_days`-th working day counting back from
    yesterday; that day's midnight in England is the cutoff. Working days skip weekends and
    England and Wales bank holidays (an LA's own closure days are not known to the hub).
    Returned in UTC: SQLite compares stored times as UTC text, whatever the offset given.
    """
    day = now.astimezone(LA_TIME_ZONE).date()
    counted = 0
    while counted < sla_working_days:
        day -= timedelta(days=1)
        counted += _is_working_day(day)
    return datetime.combine(day, time(), LA_TIME_ZONE).astimezone(UTC)


def _is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


@cache
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())
