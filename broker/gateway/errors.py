"""The gateway's errors: each has an HTTP status and a stable reason code.

They become HTTP responses only in `broker.gateway.app` (the edge). Messages are fixed text
written here: never a key id, a path, SQL, a payload or anything the caller sent.
"""

from broker.errors import BrokerError


class GatewayError(BrokerError):
    """Root of the gateway's errors."""

    reason = "gateway_error"
    status = 500


class Unauthenticated(GatewayError):
    """No usable client assertion or client certificate; `reason` says which check failed."""

    reason = "unauthenticated"
    status = 401

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class Forbidden(GatewayError):
    """Authenticated, but not allowed to do this; `reason` says why."""

    reason = "forbidden"
    status = 403

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class NotFound(GatewayError):
    """Nothing of this agency's by that id (another agency's message looks the same)."""

    reason = "not_found"
    status = 404


class Conflict(GatewayError):
    """The message id was already used for a different envelope."""

    reason = "message_id_conflict"
    status = 409


class MailboxNotEnabled(GatewayError):
    """The agency is not one the gateway keeps a mailbox for (it reads its queue over AMQP,
    or has not been onboarded to the gateway): its messages are left on its queue."""

    reason = "mailbox_not_enabled"
    status = 409


class TooLarge(GatewayError):
    """The request body is over the size limit."""

    reason = "too_large"
    status = 413


class Refused(GatewayError):
    """The envelope was refused at the edge; `reason` is the envelope check's own code."""

    status = 422

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class RateLimited(GatewayError):
    """Over the agency's request rate."""

    reason = "rate_limited"
    status = 429

    def __init__(self, retry_after_s: int) -> None:
        super().__init__("too many requests: retry later")
        self.retry_after_s = retry_after_s


class HubUnavailable(GatewayError):
    """RabbitMQ or the database did not answer in time."""

    reason = "hub_unavailable"
    status = 503
