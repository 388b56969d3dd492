"""The router process: consume the hub's ingress queue and act on each decision.

Order of effects, chosen so a crash at any point loses nothing and doubles nothing:
route   = ledger `routed` -> publish to the recipient (confirmed) -> ack
refuse  = publish the original to the refused queue (confirmed) -> ledger `refused` ->
          signed refusal receipt to an authenticated sender -> ack
A crash before the ack redelivers the message; the ledger then recognises it (`duplicate`) and
only the publish is repeated, which the recipient's inbox absorbs.
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from uuid import uuid4

import aio_pika
import structlog
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection
from sqlalchemy.exc import SQLAlchemyError

from broker.envelope import OuterClaims, Sealer
from broker.errors import BrokerError, EnvelopeError
from broker.ledger import LedgerEvent, LedgerRecord, SqlLedger
from broker.receipts import receipt_draft
from broker.router.core import Refuse, Route, RouterCore
from broker.transport.publish import Publisher
from broker.transport.retry import retry_or_dead_letter
from broker.transport.topology import Topology, routing_word
from schemas.messages.receipt import TYPE as RECEIPT
from schemas.messages.receipt import ReceiptOutcome

log = structlog.get_logger(__name__)
PUBLISHER_HEADER = "x-cme-publisher"
REASON_HEADER = "x-cme-reason"


@dataclass(frozen=True)
class RouterSettings:
    """Connection and flow-control settings of one router replica."""

    amqp_url: str
    actor: str = "router"
    prefetch: int = 64
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
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

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
        # A passive declare (not get_queue) so the robust channel re-consumes after a reconnect.
        queue = await channel.declare_queue(self._topology.router_queue, passive=True)
        tag = await queue.consume(self._on_message)
        log.info("router.started", actor=self._settings.actor, queue=queue.name)
        await stop.wait()
        await queue.cancel(tag)
        await self._idle.wait()  # graceful: acks nothing it has not processed
        log.info("router.stopped", actor=self._settings.actor)

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        self._in_flight += 1
        self._idle.clear()
        try:
            await self._process(message)
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()

    async def _process(self, message: AbstractIncomingMessage) -> None:
        try:
            decision = self._core.decide(message.body, self._publisher_of(message))
            if isinstance(decision, Route):
                await self._route(message, decision)
            else:
                await self._refuse(message, decision)
            await message.ack()
        except (BrokerError, SQLAlchemyError, OSError, RuntimeError) as exc:
            # Transient (database, broker): try again later, a bounded number of times.
            log.warning("router.retry", error=type(exc).__name__)
            await self._retry_or_dead_letter(message)

    def _publisher_of(self, message: AbstractIncomingMessage) -> str | None:
        """The publishing AMQP user. A message back from a wait queue was republished by the
        router, so its original publisher travels in a header; only the requeue exchange can
        deliver such a message (agencies cannot publish to it), so the header is trusted
        only then."""
        if message.exchange == self._topology.requeue:
            original = (message.headers or {}).get(PUBLISHER_HEADER)
            return str(original) if original else None
        return message.user_id

    async def _route(self, message: AbstractIncomingMessage, decision: Route) -> None:
        claims = decision.claims
        if not decision.duplicate:
            event = LedgerEvent.RECEIPTED if claims.cme_type == RECEIPT else LedgerEvent.ROUTED
            self._ledger.append(self._record(event, decision.claims, rule=decision.rule))
        await self._require_publisher().publish(
            self._topology.deliver,
            routing_word(claims.aud),
            message.body,
            message_id=str(claims.jti),
        )

    async def _refuse(self, message: AbstractIncomingMessage, decision: Refuse) -> None:
        publisher = self._require_publisher()
        await publisher.publish(
            "",
            self._topology.refused_queue,
            message.body,
            message_id=message.message_id,
            headers={REASON_HEADER: decision.reason, "x-cme-rule": decision.rule[:200]},
        )
        log.info("router.refused", reason=decision.reason, rule=decision.rule)
        if decision.duplicate:
            return
        self._ledger.append(self._refusal_record(decision))
        if decision.claims is not None:
            await self._send_refusal_receipt(decision)

    async def _send_refusal_receipt(self, decision: Refuse) -> None:
        claims = decision.claims
        assert claims is not None
        if claims.cme_type == RECEIPT:
            return  # never answer a receipt with a receipt
        sealer = self._hub_sealer()
        draft = receipt_draft(
            claims,
            outcome=ReceiptOutcome.REJECTED,
            reason_code=decision.reason,
            decided_by_role="hub_router",
            now=self._core.clock(),
        )
        try:
            sealed = sealer.seal(draft)
        except EnvelopeError as exc:  # e.g. the sender is suspended: it cannot receive
            log.info("router.refusal_receipt_not_sent", reason=exc.reason)
            return
        await self._require_publisher().publish(
            self._topology.deliver,
            routing_word(claims.iss),
            sealed.to_json().encode(),
            message_id=str(sealed.claims.jti),
        )

    async def _retry_or_dead_letter(self, message: AbstractIncomingMessage) -> None:
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
    def _record(event: LedgerEvent, claims: OuterClaims, rule: str) -> LedgerRecord:
        return LedgerRecord(
            event=event,
            message_id=str(claims.jti),
            sender=claims.iss,
            recipient=claims.aud,
            message_type=claims.cme_type,
            schema_version=claims.cme_ver,
            subject_refs=claims.subject_refs,
            justification=claims.justification,
            jwe_sha256=claims.jwe_sha256,
            rule=rule[:200],
            related_message_id=str(claims.causation_id) if claims.causation_id else None,
        )

    def _refusal_record(self, decision: Refuse) -> LedgerRecord:
        claims = decision.claims
        if claims is None:
            return LedgerRecord(
                event=LedgerEvent.REFUSED,
                message_id=str(uuid4()),  # the claimed id is not trustworthy
                sender="unauthenticated",
                recipient="unknown",
                message_type="unknown",
                schema_version=0,
                jwe_sha256="",
                reason_code=decision.reason,
                rule=decision.rule,
            )
        record = self._record(LedgerEvent.REFUSED, claims, decision.rule)
        return record.model_copy(update={"reason_code": decision.reason})
