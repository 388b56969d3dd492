"""The `broker` package's exception tree. Every error carries a stable `reason` code.

Errors are turned into HTTP statuses, CLI exit codes or AMQP ack/reject only at the edge.
Messages never contain personal data, key material or payload content.
"""


class BrokerError(Exception):
    """Root of every error raised by `broker`."""

    reason = "broker_error"


class EnvelopeError(BrokerError):
    """A message could not be sealed or opened. Subclasses name the exact reason."""

    reason = "malformed"


class Malformed(EnvelopeError):
    """Not a well-formed envelope."""

    reason = "malformed"


class TooLarge(EnvelopeError):
    """Larger than the documented size limit."""

    reason = "too_large"


class ForbiddenAlgorithm(EnvelopeError):
    """An algorithm outside the allowlist."""

    reason = "forbidden_algorithm"


class ForbiddenHeader(EnvelopeError):
    """A header parameter that is not allowed (jwk, jku, x5u, x5c, crit, zip, b64, ...)."""

    reason = "forbidden_header"


class UnknownKey(EnvelopeError):
    """The kid is not in the directory."""

    reason = "unknown_key"


class RevokedKey(EnvelopeError):
    """The key is revoked."""

    reason = "revoked_key"


class ExpiredKey(EnvelopeError):
    """The key is outside its validity window."""

    reason = "expired_key"


class SenderNotActive(EnvelopeError):
    """The sending agency is suspended or revoked."""

    reason = "sender_not_active"


class BadSignature(EnvelopeError):
    """A signature does not verify."""

    reason = "bad_signature"


class DigestMismatch(EnvelopeError):
    """The JWE does not match the digest the sender signed."""

    reason = "digest_mismatch"


class WrongRecipient(EnvelopeError):
    """The message is not addressed to the one opening it."""

    reason = "wrong_recipient"


class DecryptFailed(EnvelopeError):
    """The JWE does not decrypt with the recipient's key."""

    reason = "decrypt_failed"


class ClaimsMismatch(EnvelopeError):
    """Inner (signed, encrypted) and outer claims differ."""

    reason = "claims_mismatch"


class Expired(EnvelopeError):
    """The message has expired."""

    reason = "expired"


class NotYetValid(EnvelopeError):
    """Issued in the future beyond the allowed clock skew."""

    reason = "not_yet_valid"


class Replayed(EnvelopeError):
    """This message id was already accepted."""

    reason = "replayed"


class UnknownMessageType(EnvelopeError):
    """No schema for this message type."""

    reason = "unknown_message_type"


class UnknownSchemaVersion(EnvelopeError):
    """No schema for this version of the type."""

    reason = "unknown_schema_version"


class SchemaInvalid(EnvelopeError):
    """The payload does not satisfy its schema."""

    reason = "schema_invalid"


class JustificationInvalid(EnvelopeError):
    """The justification is missing or invalid."""

    reason = "justification_invalid"


ENVELOPE_REASONS: frozenset[str] = frozenset(c.reason for c in EnvelopeError.__subclasses__())
"""Every reason code `open()` can give."""


class DirectoryError(BrokerError):
    """A directory operation failed."""

    reason = "directory_error"


class AgencyExists(DirectoryError):
    """An agency with this id is already registered."""

    reason = "agency_exists"


class AgencyNotFound(DirectoryError):
    """No agency with this id."""

    reason = "agency_not_found"


class KeyNotAvailable(DirectoryError):
    """No usable key of the requested use (or the private key is not in this keystore)."""

    reason = "key_not_available"


class DirectorySignatureInvalid(DirectoryError):
    """A directory export does not verify against the hub key it claims."""

    reason = "directory_signature_invalid"
