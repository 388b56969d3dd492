"""The router's decision for one message, without AMQP: route it, or refuse it and why.

The hub is blind: it verifies the outer layer (sender, signature, times, digest, type) and
decides on metadata only; it never holds a key that decrypts a payload.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from broker import errors
from broker.agreements import AgreementBook, AgreementRefusal
from broker.clock import Clock
from broker.directory.cache import RevisionCachedDirectory
from broker.directory.model import AgencyStatus, DirectorySnapshot
from broker.envelope import EnvelopeConfig, HeaderVerifier, OuterClaims, Verified
from broker.ledger import LedgerEntry, LedgerEvent, LedgerRecord, SqlLedger
from broker.transport.deaths import DeadLetter
from broker.transport.topology import routing_word
from schemas.messages.receipt import TYPE as RECEIPT
from schemas.registry import SchemaRegistry

RECEIPT_RULE = "receipt-of-routed-message"
_DECIDED = frozenset({LedgerEvent.ROUTED, LedgerEvent.RECEIPTED, LedgerEvent.REFUSED})
"""Events that record the router's decision on a message (a dead letter of it is not one:
a message replayed from a dead-letter queue is decided as if for the first time, or
recognised by its earlier decision)."""


@dataclass(frozen=True)
class Route:
    """Deliver to `claims.aud`. `duplicate`: the same envelope was routed before (an at-least-
    once redelivery): publish it again, record nothing new; the recipient's inbox dedupes."""

    claims: OuterClaims
    rule: str
    duplicate: bool = False


@dataclass(frozen=True)
class Refuse:
    """Do not deliver. `claims` is set when the sender was authenticated (it gets a receipt).
    `duplicate`: this very envelope was refused before (recorded already)."""

    reason: str
    rule: str
    claims: OuterClaims | None = None
    duplicate: bool = False


Decision = Route | Refuse


@dataclass(frozen=True)
class RouterPolicy:
    """Who may publish on behalf of whom. `trusted_publishers`: AMQP users (the HTTPS gateway,
    a development account) allowed to publish for any agency; every other publisher must be
    the agency itself (RabbitMQ validates `user_id` against the connection's user)."""

    require_user_id: bool = True
    trusted_publishers: frozenset[str] = frozenset()


class RouterCore:
    """Decides what happens to each envelope arriving at the hub."""

    def __init__(
        self,
        directory: RevisionCachedDirectory,
        agreements: AgreementBook,
        ledger: SqlLedger,
        *,
        registry: SchemaRegistry,
        config: EnvelopeConfig,
        policy: RouterPolicy,
        clock: Clock,
    ) -> None:
        self._directory = directory
        self._agreements = agreements
        self._ledger = ledger
        self._registry = registry
        self._config = config
        self._policy = policy
        self.clock = clock
        self._verifiers: tuple[DirectorySnapshot, HeaderVerifier] | None = None

    def decide(self, body: bytes, amqp_user: str | None) -> Decision:
        """Route or refuse one message; never raises for anything a sender can put in it."""
        return self.decide_batch([(body, amqp_user)])[0]

    def decide_batch(self, deliveries: Sequence[tuple[bytes, str | None]]) -> list[Decision]:
        """Decide a batch of (body, AMQP publisher): one directory check and one ledger query
        for the whole batch. A message seen earlier in the same batch is a duplicate (or a
        replay), exactly as if the ledger already held it."""
        verifier = self._verifier()
        authenticated = [self._authenticate(verifier, body) for body, _ in deliveries]
        claims = [a.claims for a in authenticated if isinstance(a, Verified)]
        history = self._ledger.histories({i for c in claims for i in _ids_about(c)})
        seen: dict[tuple[str, str], str] = {}
        decisions: list[Decision] = []
        for (_, amqp_user), auth in zip(deliveries, authenticated, strict=True):
            if isinstance(auth, Refuse):
                decisions.append(auth)
                continue
            decision = self._judge(verifier, auth, amqp_user, history)
            decisions.append(_within_batch(decision, seen))
        return decisions

    @staticmethod
    def _authenticate(verifier: HeaderVerifier, body: bytes) -> Verified | Refuse:
        try:
            return verifier.authenticate(body)
        except errors.EnvelopeError as exc:
            return Refuse(exc.reason, "envelope")

    def _judge(
        self,
        verifier: HeaderVerifier,
        authenticated: Verified,
        amqp_user: str | None,
        history: Mapping[str, list[LedgerEntry]],
    ) -> Decision:
        claims = authenticated.claims
        return (
            self._check_publisher(claims, amqp_user)
            or self._check_envelope(verifier, authenticated)
            or self._check_recipient(verifier, claims)
            or self._check_history(claims, history.get(str(claims.jti), []))
            or self._permit(claims, history)
        )

    def dead_letter_record(self, body: bytes, death: DeadLetter) -> LedgerRecord | None:
        """The ledger entry for a message RabbitMQ dead-lettered, or None if the ledger holds
        it already (the copy came round twice). Described by its outer header when that still
        authenticates; otherwise only as an unauthenticated dead letter."""
        rule = death.summary[:200]
        authenticated = self._authenticate(self._verifier(), body)
        if isinstance(authenticated, Refuse):
            return LedgerRecord.unverified(LedgerEvent.DEAD_LETTERED, death.reason, rule)
        claims = authenticated.claims
        for entry in self._ledger.history(str(claims.jti)):
            if entry.event == LedgerEvent.DEAD_LETTERED and entry.rule == rule:
                return None
        return claims_record(LedgerEvent.DEAD_LETTERED, claims, death.reason, rule)

    def _verifier(self) -> HeaderVerifier:
        snapshot = self._directory.current()
        if self._verifiers is None or self._verifiers[0] is not snapshot:
            verifier = HeaderVerifier(
                snapshot, registry=self._registry, config=self._config, clock=self.clock
            )
            self._verifiers = (snapshot, verifier)
        return self._verifiers[1]

    def _check_publisher(self, claims: OuterClaims, amqp_user: str | None) -> Refuse | None:
        if amqp_user is None:
            if self._policy.require_user_id:
                return Refuse("publisher_unverified", "amqp-user-id", claims)
            return None
        if amqp_user in self._policy.trusted_publishers or amqp_user == routing_word(claims.iss):
            return None
        return Refuse("publisher_mismatch", "amqp-user-id", claims)

    @staticmethod
    def _check_envelope(verifier: HeaderVerifier, authenticated: Verified) -> Refuse | None:
        try:
            verifier.check(authenticated)
        except errors.EnvelopeError as exc:
            return Refuse(exc.reason, "envelope", authenticated.claims)
        return None

    @staticmethod
    def _check_recipient(verifier: HeaderVerifier, claims: OuterClaims) -> Refuse | None:
        try:
            active = verifier.directory.agency(claims.aud).status is AgencyStatus.ACTIVE
        except errors.AgencyNotFound:
            active = False
        return None if active else Refuse("unknown_recipient", "directory", claims)

    @staticmethod
    def _check_history(claims: OuterClaims, history: list[LedgerEntry]) -> Decision | None:
        """Replays: the ledger holds every message id the hub has seen, for ever (so it
        covers the whole acceptance window). The same envelope again is a redelivery; the
        same id with other content is a replay."""
        seen = [
            e
            for e in history
            if e.message_id == str(claims.jti) and e.sender == claims.iss and e.event in _DECIDED
        ]
        if not seen:
            return None
        if any(e.jwe_sha256 != claims.jwe_sha256 for e in seen):
            return Refuse("replayed", "replay-cache", claims)
        first = seen[0]
        if first.event in (LedgerEvent.ROUTED, LedgerEvent.RECEIPTED):
            return Route(claims, first.rule or "", duplicate=True)
        return Refuse(first.reason_code or "replayed", first.rule or "replay-cache", claims, True)

    def _permit(self, claims: OuterClaims, history: Mapping[str, list[LedgerEntry]]) -> Decision:
        if claims.cme_type == RECEIPT:
            return _permit_receipt(claims, history)
        spec = self._registry.spec(claims.cme_type, claims.cme_ver)
        try:
            permit = self._agreements.evaluate(
                sender=claims.iss,
                recipient=claims.aud,
                message_type=claims.cme_type,
                special_category_spec=spec.special_category,
                justification=claims.justification,
                at=self.clock(),
            )
        except AgreementRefusal as refusal:
            return Refuse(refusal.reason, refusal.rule, claims)
        return Route(claims, permit.rule)


def claims_record(
    event: LedgerEvent, claims: OuterClaims, reason: str | None, rule: str
) -> LedgerRecord:
    """An entry about an authenticated message: its header's metadata and justification."""
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
        reason_code=reason,
        rule=rule[:200],
    )


def answered(claims: OuterClaims) -> tuple[str, ...]:
    """The message ids a receipt answers (from its header: the hub never reads payloads)."""
    if claims.causation_ids:
        return tuple(str(i) for i in claims.causation_ids)
    return (str(claims.causation_id),) if claims.causation_id else ()


def _ids_about(claims: OuterClaims) -> tuple[str, ...]:
    return (str(claims.jti), *answered(claims))


def _permit_receipt(claims: OuterClaims, history: Mapping[str, list[LedgerEntry]]) -> Decision:
    """A receipt needs no agreement of its own: it answers messages this hub routed from the
    receipt's recipient to its sender (every one of them, for a batched receipt)."""
    ids = answered(claims)
    if not ids or not all(_routed_to_receipter(claims, i, history.get(i, [])) for i in ids):
        return Refuse("receipt_unrelated", RECEIPT_RULE, claims)
    # One receipt per message from its recipient: more would be a channel outside any
    # agreement (a receipt's own redelivery is recognised earlier, by its id).
    if any(_receipted_by(claims, i, history.get(i, [])) for i in ids):
        return Refuse("receipt_repeated", RECEIPT_RULE, claims)
    return Route(claims, RECEIPT_RULE)


def _receipted_by(claims: OuterClaims, message_id: str, history: list[LedgerEntry]) -> bool:
    return any(
        entry.event == LedgerEvent.RECEIPTED
        and entry.related_message_id == message_id
        and entry.sender == claims.iss
        and entry.message_id != str(claims.jti)
        for entry in history
    )


def _routed_to_receipter(claims: OuterClaims, message_id: str, history: list[LedgerEntry]) -> bool:
    return any(
        entry.event == LedgerEvent.ROUTED
        and entry.message_id == message_id
        and (entry.sender, entry.recipient) == (claims.aud, claims.iss)
        for entry in history
    )


def _within_batch(decision: Decision, seen: dict[tuple[str, str], str]) -> Decision:
    """The second copy of an envelope in one batch is a duplicate; the same id with other
    content is a replay."""
    claims = decision.claims
    if claims is None or decision.duplicate:
        return decision
    key = (claims.iss, str(claims.jti))
    if key not in seen:
        seen[key] = claims.jwe_sha256
        return decision
    if seen[key] == claims.jwe_sha256:
        return replace(decision, duplicate=True)
    return Refuse("replayed", "replay-cache", claims)
