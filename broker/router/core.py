"""The router's decision for one message, without AMQP: route it, or refuse it and why.

The hub is blind: it verifies the outer layer (sender, signature, times, digest, type) and
decides on metadata only; it never holds a key that decrypts a payload.
"""

from dataclasses import dataclass

from broker import errors
from broker.agreements import AgreementBook, AgreementRefusal
from broker.clock import Clock
from broker.directory.cache import RevisionCachedDirectory
from broker.directory.model import AgencyStatus, DirectorySnapshot
from broker.envelope import EnvelopeConfig, HeaderVerifier, OuterClaims, Verified
from broker.ledger import LedgerEvent, SqlLedger
from broker.transport.topology import routing_word
from schemas.messages.receipt import TYPE as RECEIPT
from schemas.registry import SchemaRegistry

RECEIPT_RULE = "receipt-of-routed-message"


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
        """Route or refuse; never raises for anything a sender can put in a message."""
        verifier = self._verifier()
        try:
            authenticated = verifier.authenticate(body)
        except errors.EnvelopeError as exc:
            return Refuse(exc.reason, "envelope")
        claims = authenticated.claims
        return (
            self._check_publisher(claims, amqp_user)
            or self._check_envelope(verifier, authenticated)
            or self._check_recipient(verifier, claims)
            or self._check_history(claims)
            or self._permit(claims)
        )

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

    def _check_history(self, claims: OuterClaims) -> Decision | None:
        """Replays: the ledger holds every message id the hub has seen, for ever (so it
        covers the whole acceptance window). The same envelope again is a redelivery; the
        same id with other content is a replay."""
        seen = [
            e
            for e in self._ledger.history(str(claims.jti))
            if e.message_id == str(claims.jti) and e.sender == claims.iss
        ]
        if not seen:
            return None
        if any(e.jwe_sha256 != claims.jwe_sha256 for e in seen):
            return Refuse("replayed", "replay-cache", claims)
        first = seen[0]
        if first.event in (LedgerEvent.ROUTED, LedgerEvent.RECEIPTED):
            return Route(claims, first.rule or "", duplicate=True)
        return Refuse(first.reason_code or "replayed", first.rule or "replay-cache", claims, True)

    def _permit(self, claims: OuterClaims) -> Decision:
        if claims.cme_type == RECEIPT:
            return self._permit_receipt(claims)
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

    def _permit_receipt(self, claims: OuterClaims) -> Decision:
        """A receipt needs no agreement of its own: it answers a message this hub routed from
        the receipt's recipient to its sender."""
        if claims.causation_id is not None:
            for entry in self._ledger.history(str(claims.causation_id)):
                if (
                    entry.event == LedgerEvent.ROUTED
                    and entry.message_id == str(claims.causation_id)
                    and (entry.sender, entry.recipient) == (claims.aud, claims.iss)
                ):
                    return Route(claims, RECEIPT_RULE)
        return Refuse("receipt_unrelated", RECEIPT_RULE, claims)
