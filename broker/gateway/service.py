"""What the gateway does for an authenticated agency, independent of HTTP.

The gateway holds no decryption key. It authenticates a submitted envelope's outer layer
(so a forged or another agency's envelope is refused at once, with its reason code, and
recorded in the ledger) and leaves every other verdict to the router, which answers with a
signed refusal receipt in the agency's mailbox like any AMQP sender gets.
"""

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

import structlog

from broker.clock import Clock
from broker.envelope import HeaderVerifier
from broker.envelope.replay import SqlReplayCache
from broker.errors import EnvelopeError
from broker.gateway.errors import (
    Forbidden,
    HubUnavailable,
    MailboxNotEnabled,
    NotFound,
    Refused,
)
from broker.gateway.observe import MAILBOX_UNACKNOWLEDGED, REFUSED
from broker.gateway.relay import AmqpRelay
from broker.gateway.store import Delivery, GatewayStore
from broker.gateway.tables import MailboxRow
from broker.ledger import LedgerEntry, LedgerEvent, LedgerRecord, SqlLedger
from broker.transport.publish import PublishFailed
from broker.transport.topology import routing_word

log = structlog.get_logger(__name__)
PUMP_IDLE_S = 1.0
PURGE_EVERY_S = 3600.0
MAILBOX_CAP = 500
"""Unacknowledged messages the gateway holds per agency; beyond that the rest stays on the
agency's queue (where queue-depth alerts see it) until the agency acknowledges some."""


@dataclass(frozen=True)
class Submitted:
    """Where a submitted envelope is: confirmed into the hub, or safe in the outbox."""

    message_id: str
    status: Literal["published", "queued"]


@dataclass(frozen=True)
class Mailbox:
    """An agency's unacknowledged messages, and whether the hub could be asked for more."""

    messages: list[MailboxRow]
    hub_reachable: bool


@dataclass(frozen=True)
class GatewayPolicy:
    """The gateway's settings."""

    retention: timedelta
    """How long published envelopes and acknowledged messages are remembered (the longest
    a message may live: after that the hub refuses it anyway)."""
    hub_timeout_s: float
    mailboxes: frozenset[str] | None
    """The agencies whose queue the gateway may take messages from (None: every agency, in
    development). Never one that reads its queue over AMQP: what the gateway takes, its own
    client would never see."""


@dataclass(frozen=True)
class GatewayParts:
    """The gateway's collaborators (built by the composition root)."""

    store: GatewayStore
    relay: AmqpRelay
    ledger: SqlLedger
    verifier: Callable[[], HeaderVerifier]
    signed_directory: Callable[[], str]
    replay_cache: SqlReplayCache
    clock: Clock
    policy: GatewayPolicy


class GatewayService:
    """Submit, poll, acknowledge, track, fetch the directory: one agency at a time."""

    def __init__(self, parts: GatewayParts) -> None:
        self._parts = parts
        self._wake = asyncio.Event()

    async def submit(self, agency_id: str, raw: bytes) -> Submitted:
        """Authenticate the envelope as the caller's, store it, then try to publish it."""
        wire, message_id = await asyncio.to_thread(self._authenticate, agency_id, raw)
        staged = await asyncio.to_thread(self._parts.store.stage, agency_id, message_id, wire)
        if staged.status == "published":
            return Submitted(message_id, "published")
        try:
            await self._parts.relay.publish(agency_id, message_id, wire)
        except PublishFailed:
            self._wake.set()  # the pump keeps trying
            return Submitted(message_id, "queued")
        await asyncio.to_thread(self._parts.store.mark_published, [staged.row_id])
        return Submitted(message_id, "published")

    async def mailbox(self, agency_id: str, limit: int, message_type: str | None) -> Mailbox:
        """Take what is waiting on the agency's queue into its mailbox, then list the
        mailbox. With RabbitMQ down the mailbox is still listed (`hub_reachable` False)."""
        allowed = self._parts.policy.mailboxes
        if allowed is not None and agency_id not in allowed:
            raise MailboxNotEnabled("the gateway keeps no mailbox for this agency")
        store = self._parts.store

        async def deposit(deliveries: Sequence[Delivery]) -> None:
            await asyncio.to_thread(store.deposit, agency_id, deliveries)

        reachable = True
        room = MAILBOX_CAP - await asyncio.to_thread(store.unacknowledged, agency_id)
        try:
            if room > 0:
                await self._parts.relay.take(agency_id, min(limit, room), deposit)
            else:
                reachable = await self._parts.relay.ping()
        except HubUnavailable:
            reachable = False
        held = await asyncio.to_thread(store.unacknowledged, agency_id)
        MAILBOX_UNACKNOWLEDGED.labels(agency=routing_word(agency_id)).set(held)
        rows = await asyncio.to_thread(store.pending, agency_id, limit, message_type)
        return Mailbox(rows, reachable)

    async def acknowledge(self, agency_id: str, message_id: str) -> None:
        """The agency has the message: drop it from the mailbox."""
        if not await asyncio.to_thread(self._parts.store.acknowledge, agency_id, message_id):
            raise NotFound("no such message in this agency's mailbox")

    async def track(self, agency_id: str, message_id: str) -> list[LedgerEntry]:
        """The ledger's entries about a message that the agency is a party to."""
        entries = await asyncio.to_thread(self._parts.ledger.history, message_id)
        mine = [e for e in entries if agency_id in (e.sender, e.recipient)]
        if not mine:
            raise NotFound("no such message for this agency")
        return mine

    async def directory(self) -> str:
        """The directory signed by the hub (compact JWS)."""
        return await asyncio.to_thread(self._parts.signed_directory)

    async def pump(self, stop: asyncio.Event) -> None:
        """Until `stop` is set: publish what the outbox holds (envelopes accepted while
        RabbitMQ was down), and now and then forget what is no longer needed."""
        purged_at = 0.0
        while not stop.is_set():
            self._wake.clear()
            try:
                await self._publish_outbox()
                if time.monotonic() - purged_at > PURGE_EVERY_S:
                    await asyncio.to_thread(self._purge)
                    purged_at = time.monotonic()
            except Exception as exc:  # the database or the hub: try again shortly
                log.warning("gateway.pump_failed", error=type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(PUMP_IDLE_S):
                    await self._wake.wait()

    async def close(self) -> None:
        """Close the connection to RabbitMQ."""
        await self._parts.relay.close()

    async def _publish_outbox(self) -> None:
        # Rows younger than two hub timeouts may still be in the hands of the request that
        # staged them: leave those to it (the router would absorb a double publish anyway).
        cutoff = self._parts.clock() - timedelta(seconds=2 * self._parts.policy.hub_timeout_s)
        rows = await asyncio.to_thread(self._parts.store.unpublished, cutoff)
        confirmed: list[int] = []
        for row in rows:
            try:
                await self._parts.relay.publish(row.sender, row.message_id, row.wire)
            except PublishFailed:
                break  # the hub is down: the rest waits for the next round
            if row.id is not None:
                confirmed.append(row.id)
        await asyncio.to_thread(self._parts.store.mark_published, confirmed)

    def _purge(self) -> None:
        before = self._parts.clock() - self._parts.policy.retention
        forgotten = self._parts.store.purge(before)
        expired = self._parts.replay_cache.purge_expired()
        log.info("gateway.purged", messages=forgotten, assertions=expired)

    def _authenticate(self, agency_id: str, raw: bytes) -> tuple[str, str]:
        """The envelope's text and message id, once its outer signature proves it is the
        caller's."""
        try:
            wire = raw.decode("utf-8")
            claims = self._parts.verifier().authenticate(wire).claims
        except UnicodeDecodeError:
            self._refuse(agency_id, "malformed", "gateway:outer-signature")
            raise Refused("malformed", "the envelope is not UTF-8 JSON") from None
        except EnvelopeError as exc:
            self._refuse(agency_id, exc.reason, "gateway:outer-signature")
            raise Refused(exc.reason, "the envelope was refused: see the reason code") from None
        if claims.iss != agency_id:
            self._refuse(agency_id, "sender_mismatch", "gateway:authenticated-agency")
            raise Forbidden("sender_mismatch", "the envelope is not signed by the caller")
        return wire, str(claims.jti)

    def _refuse(self, agency_id: str, reason: str, rule: str) -> None:
        """Record a refusal at the edge (the router never sees these envelopes)."""
        REFUSED.labels(reason=reason).inc()
        log.info("gateway.refused", reason=reason)
        # The claimed id is not the caller's to use: a fresh one stands in.
        self._parts.ledger.append(
            LedgerRecord.unverified(LedgerEvent.REFUSED, reason, rule, sender=agency_id)
        )
