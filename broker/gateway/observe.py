"""The gateway's own Prometheus metrics (on the default registry, beside the hub's).
Labels are route templates, status codes, reason codes and agencies' routing words (such as
`health.M85001`, an organisation): never anything about a child."""

from prometheus_client import Counter, Gauge

REQUESTS = Counter(
    "cme_gateway_requests", "HTTPS requests answered, by route and status", ["route", "status"]
)
REFUSED = Counter(
    "cme_gateway_refused", "Requests and envelopes refused at the gateway, by reason", ["reason"]
)
MAILBOX_UNACKNOWLEDGED = Gauge(
    "cme_gateway_mailbox_unacknowledged",
    "Messages the gateway holds for an HTTPS agency that it has not acknowledged (as of its "
    "last poll): out of RabbitMQ's queue depth, so watch this too",
    ["agency"],
)
