"""The hub's Prometheus metrics, on prometheus_client's default registry.

Defined once, at import (creating a metric is no I/O): every router replica and sampler in a
process shares them, and a test compares a sample before and after what it does.

Labels never carry personal data: message types, reason codes and queue names (which hold
agency routing words such as `school.3304000`, never people). Their values are closed sets, so
the number of series stays bounded: a message type outside the schema registry is counted as
`other`, a reason code outside the known set as `other` (an unauthenticated message has no
trustworthy type: `unknown`).

    cme_messages_routed_total{message_type}            routed (a receipt: type `receipt`)
    cme_messages_refused_total{message_type, reason}   refused by the router
    cme_delivery_latency_seconds                       issued-at -> confirmed in the recipient's
                                                       queue (`iat` is whole seconds: a latency
                                                       reads up to 1 s high)
    cme_queue_messages{queue}                          ready messages in each work queue
    cme_dead_letters{queue}                            messages in each dead-letter queue
    cme_enquiries_overdue                              locate enquiries past their SLA, unanswered
    cme_metrics_sample_timestamp_seconds{source}       last successful sample (`queues`,
                                                       `ledger`): a stale sampler shows here
    cme_metrics_sample_failures_total{source}          samples that failed (outage)
"""

from datetime import datetime
from functools import cache
from typing import Final

from prometheus_client import Counter, Gauge, Histogram

from broker import errors
from broker.agreements.errors import REFUSAL_REASONS
from broker.envelope import OuterClaims
from schemas.registry import default_registry

OTHER: Final = "other"
UNKNOWN_TYPE: Final = "unknown"
"""The message type of a refusal before the sender was authenticated (its claims are not
trustworthy, so neither is its type)."""
ROUTER_REASONS: Final = frozenset(
    {
        "publisher_unverified",
        "publisher_mismatch",
        "unknown_recipient",
        "replayed",
        "receipt_unrelated",
        "receipt_repeated",
    }
)
"""The reason codes `broker.router.core` gives itself (beyond envelope and agreement ones)."""
LATENCY_BUCKETS_S: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
SOURCES: Final = ("queues", "ledger")

ROUTED: Final = Counter(
    "cme_messages_routed",
    "Messages the router delivered to their recipient's queue (receipts: type `receipt`).",
    ["message_type"],
)
REFUSED: Final = Counter(
    "cme_messages_refused",
    "Messages the router refused, by type and reason code.",
    ["message_type", "reason"],
)
LATENCY: Final = Histogram(
    "cme_delivery_latency_seconds",
    "From the envelope's issued-at (iat, whole seconds) to the router's confirmed publish "
    "into the recipient's queue.",
    buckets=LATENCY_BUCKETS_S,
)
QUEUE_MESSAGES: Final = Gauge(
    "cme_queue_messages",
    "Ready messages in each work queue (router, refused, each agency's).",
    ["queue"],
)
DEAD_LETTERS: Final = Gauge(
    "cme_dead_letters",
    "Messages in each dead-letter queue.",
    ["queue"],
)
DEAD_LETTERS_UNRECORDED: Final = Counter(
    "cme_dead_letters_unrecorded",
    "Dead letters the router failed to record in the ledger (each failed attempt; a transient "
    "failure is tried again, anything else is given up with an error log).",
)
ENQUIRIES_OVERDUE: Final = Gauge(
    "cme_enquiries_overdue",
    "Locate enquiries routed longer ago than the response SLA with no routed response.",
)
SAMPLE_TIMESTAMP: Final = Gauge(
    "cme_metrics_sample_timestamp_seconds",
    "When the sampler last read each source successfully (Unix time).",
    ["source"],
)
SAMPLE_FAILURES: Final = Counter(
    "cme_metrics_sample_failures",
    "Samples that failed because the source was unavailable.",
    ["source"],
)


@cache
def _message_types() -> frozenset[str]:
    return frozenset(default_registry().types())


@cache
def _reason_codes() -> frozenset[str]:
    envelope = {
        cls.reason
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, errors.EnvelopeError)
    }
    return frozenset(envelope | REFUSAL_REASONS | ROUTER_REASONS)


def type_label(message_type: str | None) -> str:
    """The label for a message type: a registered type, `unknown` (none), or `other`."""
    if message_type is None:
        return UNKNOWN_TYPE
    return message_type if message_type in _message_types() else OTHER


def reason_label(reason: str) -> str:
    """The label for a reason code: a known code, or `other`."""
    return reason if reason in _reason_codes() else OTHER


def count_routed(claims: OuterClaims, confirmed_at: datetime) -> None:
    """One message routed, its publish confirmed at `confirmed_at` (a negative latency, from
    clock skew between sender and hub, counts as 0)."""
    ROUTED.labels(message_type=type_label(claims.cme_type)).inc()
    LATENCY.observe(max(0.0, confirmed_at.timestamp() - claims.iat))


def count_refused(claims: OuterClaims | None, reason: str) -> None:
    """One message refused; `claims` is None when the sender was not authenticated."""
    message_type = type_label(claims.cme_type if claims is not None else None)
    REFUSED.labels(message_type=message_type, reason=reason_label(reason)).inc()
