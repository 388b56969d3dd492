"""The router process: consume the hub's ingress queue and act on each decision.

Messages are taken in small batches: the decisions are made one by one, then the whole
batch's ledger entries are appended in one transaction (group commit), then every route,
refused copy and refusal receipt is published concurrently, and only then is each message
acked. A crash at any point loses nothing: an unacked message is redelivered, the ledger
recognises it (`duplicate`) and only the publishing is repeated, which the recipient's inbox
absorbs. Each decision is counted in `broker.metrics` once, after its message was acked.
"""

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import aio_pika
import aiormq
import structlog
from aio_pika.abc import AbstractIncomingMessage, AbstractQueue, AbstractRobustConnection
from sqlalchemy.exc import SQLAlchemyError

from broker import metrics
from broker.envelope import OuterClaims, Sealer
from broker.errors import BrokerError, EnvelopeError
from broker.ledger import LedgerEvent, LedgerRecord, SqlLedger
from broker.receipts import receipt_draft
from broker.router.core import (
    Decision,
    Refuse,
    Route,
    RouterCore,
    answered,
    claims_record,
)
from broker.transport.batches import Batches
from broker.transport.deaths import DeadLetter, describe
from broker.transport.headers import PUBLISHER_HEADER, REASON_HEADER, SENDER_HEADER
from broker.transport.publish import CHANNEL_GONE, Publisher
from broker.transport.retry import retry_or_dead_letter
from broker.transport.topology import Topology, routing_word
from schemas.messages.receipt import TYPE as RECEIPT
from schemas.messages.receipt import ReceiptOutcome

log = structlog.get_logger(__name__)
DEAD_LETTER_PREFETCH = 1
"""One at a time: the check that a dead letter is not recorded yet and its recording must
not interleave with another copy's (and the queue has a single active consumer, so two
replicas do not interleave either). Dead letters are rare: this costs nothing."""
DEAD_LETTER_RETRY_S = 5.0
"""Pause before a dead letter that could not be recorded is tried again."""
TRANSIENT = (BrokerError, SQLAlchemyError, OSError, RuntimeError)
"""Failures worth retrying later (database, broker); never a verdict on the message."""


@dataclass(frozen=True)
class RouterSettings:
    """Connection and flow-control settings of one router replica."""

    amqp_url: str
    actor: str = "router"
    prefetch: int = 128
    batch_size: int = 64
    publish_timeout_s: float = 10.0


class RouterService:
    """One router replica. Several replicas on one hub are competing consumers."""

    def __init__(
        self,
        core: RouterCore,
        ledger: SqlLedger,
        hub_sealer: Callable[[], Sealer],
        topology: Topology,
        settings: RouterSettings,
    ) -> None:
        self._core = core
        self._ledger = ledger
        self._hub_sealer = hub_sealer
        self._topology = topology
        self._settings = settings
        self._publisher: Publisher | None = None
        self._stopping = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set, then finish the messages in flight and close."""
        connection = await aio_pika.connect_robust(self._settings.amqp_url, timeout=15)
        try:
            await self._consume(connection, stop)
        finally:
            await connection.close()

    async def _consume(self, connection: AbstractRobustConnection, stop: asyncio.Event) -> None:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        await channel.set_qos(prefetch_count=self._settings.prefetch)
        self._publisher = Publisher(channel, self._settings.publish_timeout_s)
        batches = Batches(self._settings.batch_size)
        # A passive declare (not get_queue) so the robust channel re-consumes after a reconnect.
        queue = await channel.declare_queue(self._topology.router_queue, passive=True)
        self._stopping = stop
        consumers = await self._consume_dead_letter_log(connection)  # before the worker starts
        worker = asyncio.create_task(self._work(batches))
        consumers.append((queue, await queue.consume(batches.put)))
        log.info("router.started", actor=self._settings.actor, queue=queue.name)
        await stop.wait()
        try:  # bounded: on a robust channel this waits for the broker to come back otherwise
            async with asyncio.timeout(self._settings.publish_timeout_s):
                for consumer, tag in consumers:
                    await consumer.cancel(tag)
        except (TimeoutError, *CHANNEL_GONE):
            log.warning("router.cancel_failed")  # no connection: nothing more is delivered
        batches.close()
        await worker  # graceful: finishes what it took, acks nothing it has not processed
        log.info("router.stopped", actor=self._settings.actor)

    async def _consume_dead_letter_log(
        self, connection: AbstractRobustConnection
    ) -> list[tuple[AbstractQueue, str]]:
        """Record every dead letter in the ledger, from the copy the dead-letter exchange puts
        in the log queue. On its own channel: a hub whose topology predates the log queue
        fails the passive declare (which closes its channel), and then runs without it."""
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=DEAD_LETTER_PREFETCH)
        try:
            queue = await channel.declare_queue(self._topology.dead_letter_log, passive=True)
        except aiormq.exceptions.ChannelNotFoundEntity:
            log.warning("router.dead_letter_log_missing", queue=self._topology.dead_letter_log)
            return []
        return [(queue, await queue.consume(self._log_dead_letter))]

    async def _log_dead_letter(self, message: AbstractIncomingMessage) -> None:
        """Record one dead letter, then ack its copy (the original waits in its `.dlq`
        whatever happens here). A transient failure (the database) gives the copy back after
        a pause, to be tried again; anything else (a bug) is given up with an error log, so
        one copy cannot loop for ever (nor, on RabbitMQ 4, be dropped silently by the queue's
        default delivery limit). Both are counted in `cme_dead_letters_unrecorded`."""
        death = describe(message)
        try:
            await asyncio.to_thread(self._record_dead_letter, message.body, death)
        except TRANSIENT as exc:
            metrics.DEAD_LETTERS_UNRECORDED.inc()
            log.warning("router.dead_letter_not_recorded", error=type(exc).__name__)
            with contextlib.suppress(TimeoutError):  # a stop cuts the pause short
                async with asyncio.timeout(DEAD_LETTER_RETRY_S):
                    await self._stopping.wait()
            with contextlib.suppress(*CHANNEL_GONE):
                await message.nack(requeue=True)
            return
        except Exception as exc:  # a bug on this copy: keep the router running
            metrics.DEAD_LETTERS_UNRECORDED.inc()
            log.error("router.dead_letter_unrecordable", error=type(exc).__name__)
        with contextlib.suppress(*CHANNEL_GONE):  # if it comes back, it is recognised
            await message.ack()

    def _record_dead_letter(self, body: bytes, death: DeadLetter) -> None:
        record = self._core.dead_letter_record(body, death)
        if record is not None:
            self._ledger.append_many([record])
            log.info("router.dead_letter_recorded", queue=death.origin_queue, reason=death.reason)

    async def _work(self, batches: Batches) -> None:
        while batch := await batches.take():
            await self._guarded(batch)

    async def _guarded(self, batch: list[AbstractIncomingMessage]) -> None:
        """Process a batch; whatever goes wrong, the worker goes on to the next one."""
        try:
            await self._process(batch)
        except CHANNEL_GONE as exc:
            log.warning("router.channel_lost", error=type(exc).__name__, size=len(batch))
        except Exception as exc:  # a bug on some message: isolate it, retry it, park it
            log.error("router.batch_failed", error=type(exc).__name__, size=len(batch))
            if len(batch) > 1:
                for message in batch:
                    await self._guarded([message])
                return
            with contextlib.suppress(*CHANNEL_GONE):
                await self._retry(batch[0])

    async def _process(self, batch: list[AbstractIncomingMessage]) -> None:
        try:
            # In a worker thread: the database (and the signature checks) must not hold up the
            # event loop, which meanwhile takes in the next batch and, under `cme-broker
            # serve`, answers the gateway's requests. Batches are still decided one at a time.
            decisions = await asyncio.to_thread(self._decide_and_record, batch)
        except TRANSIENT as exc:
            log.warning("router.retry", stage="ledger", error=type(exc).__name__)
            await asyncio.gather(*(self._retry(m) for m in batch))
            return
        results = await asyncio.gather(
            *(self._effect(m, d) for m, d in zip(batch, decisions, strict=True)),
            return_exceptions=True,
        )
        for message, decision, result in zip(batch, decisions, results, strict=True):
            if isinstance(result, BaseException):
                log.warning("router.retry", stage="publish", error=type(result).__name__)
                await self._retry(message)
            else:
                await message.ack()
                self._count(message, decision, result)

    def _decide_and_record(self, batch: list[AbstractIncomingMessage]) -> list[Decision]:
        """Decide (reads the ledger: the database may be down), then record every decision
        in one transaction."""
        decisions = self._core.decide_batch([(m.body, self._publisher_of(m)) for m in batch])
        self._ledger.append_many([r for d in decisions for r in self._records_of(d)])
        return decisions

    def _publisher_of(self, message: AbstractIncomingMessage) -> str | None:
        """The publishing AMQP user. A message back from a wait queue was republished by the
        router, so its original publisher travels in a header; only the requeue exchange can
        deliver such a message (only the router may publish to the retry exchange), so the
        header is trusted only then."""
        if message.exchange == self._topology.requeue:
            original = (message.headers or {}).get(PUBLISHER_HEADER)
            return str(original) if original else None
        return message.user_id

    async def _effect(
        self, message: AbstractIncomingMessage, decision: Decision
    ) -> datetime | None:
        """Publish what the decision needs; for a route, when its publish was confirmed."""
        publisher = self._require_publisher()
        if isinstance(decision, Route):
            await publisher.publish(
                self._topology.deliver,
                routing_word(decision.claims.aud),
                message.body,
                message_id=str(decision.claims.jti),
                headers={SENDER_HEADER: decision.claims.iss},
            )
            return self._core.clock()  # the clock that judged iat and exp: one time base
        await publisher.publish(
            "",
            self._topology.refused_queue,
            message.body,
            message_id=message.message_id,
            headers={REASON_HEADER: decision.reason, "x-cme-rule": decision.rule[:200]},
        )
        log.info("router.refused", reason=decision.reason, rule=decision.rule)
        if decision.claims is not None:
            await self._send_refusal_receipt(decision.claims, decision.reason)
        return None

    def _count(
        self, message: AbstractIncomingMessage, decision: Decision, confirmed_at: datetime | None
    ) -> None:
        """Count a decision in the metrics once its effect is published and the message acked.

        A duplicate was counted on its first pass, unless it comes back through the router's
        own retry: a message is retried instead of acked, so that first pass counted nothing
        (the ledger had recorded it, then a publish failed)."""
        if decision.duplicate and message.exchange != self._topology.requeue:
            return
        if isinstance(decision, Refuse):
            metrics.count_refused(decision.claims, decision.reason)
        elif confirmed_at is not None:
            metrics.count_routed(decision.claims, confirmed_at)

    async def _send_refusal_receipt(self, claims: OuterClaims, reason: str) -> None:
        """Also on a duplicate: the first receipt may be the one that was never published.
        A receipt is never answered with a receipt."""
        if claims.cme_type == RECEIPT:
            return
        draft = receipt_draft(
            claims,
            outcome=ReceiptOutcome.REJECTED,
            reason_code=reason,
            decided_by_role="hub_router",
            now=self._core.clock(),
        )
        try:
            sealed = self._hub_sealer().seal(draft)
        except EnvelopeError as exc:  # e.g. the sender is suspended: it cannot receive
            log.info("router.refusal_receipt_not_sent", reason=exc.reason)
            return
        await self._require_publisher().publish(
            self._topology.deliver,
            routing_word(claims.iss),
            sealed.to_json().encode(),
            message_id=str(sealed.claims.jti),
            headers={SENDER_HEADER: sealed.claims.iss},
        )

    async def _retry(self, message: AbstractIncomingMessage) -> None:
        publisher_user = self._publisher_of(message)
        await retry_or_dead_letter(
            message,
            self._require_publisher(),
            self._topology,
            self._topology.router_queue,
            headers={PUBLISHER_HEADER: publisher_user} if publisher_user else None,
        )

    def _require_publisher(self) -> Publisher:
        if self._publisher is None:
            raise RuntimeError("router is not connected")
        return self._publisher

    @staticmethod
    def _records_of(decision: Decision) -> list[LedgerRecord]:
        """The ledger entries a decision needs: none for a duplicate (it was recorded), one
        per answered message for a batched receipt, one otherwise."""
        if decision.duplicate:
            return []
        claims = decision.claims
        if claims is None:
            assert isinstance(decision, Refuse)
            return [LedgerRecord.unverified(LedgerEvent.REFUSED, decision.reason, decision.rule)]
        if isinstance(decision, Route):
            event = LedgerEvent.RECEIPTED if claims.cme_type == RECEIPT else LedgerEvent.ROUTED
            reason = None
        else:
            event, reason = LedgerEvent.REFUSED, decision.reason
        record = claims_record(event, claims, reason, decision.rule)
        related = answered(claims) or (None,)
        return [record.model_copy(update={"related_message_id": i}) for i in related]
