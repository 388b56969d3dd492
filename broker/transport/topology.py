r"""The hub's RabbitMQ topology, declared in code and exported as RabbitMQ definitions.

    agency --(cme.ingress, key in.<kind>.<code>)--> cme.router queue --> router
    router --(cme.deliver, key <kind>.<code>)--> cme.q.<kind>.<code> --> the agency
    any queue --(reject / delivery-limit)--> cme.dlx --> <queue>.dlq
                                                    \--> cme.deadletters --> router (ledger)
    consumer --(cme.retry, key <delay>.<queue>)--> cme.wait.<delay> --(TTL)--> cme.requeue
        --> back to <queue>     (bounded retries with back-off, no delayed-message plugin)

Every queue is a durable quorum queue. The work and wait queues dead-letter at least once
(which needs `overflow=reject-publish`: the default strategy silently drops dead letters when
the target is unavailable), and the work queues have a `delivery-limit` so a poison message
cannot loop forever; the dead-letter, dead-letter log and refused queues are where messages
end, with neither. All names start with a prefix, so two hubs (or many test runs) can share
one RabbitMQ.
"""

from dataclasses import dataclass, field
from typing import Any

from schemas.agency import code_of, kind_of

DELIVERY_LIMIT = 5
RETRY_DELAYS_S = (1, 5, 30, 120, 600)
"""Back-off for attempt 1, 2, ... (then dead-lettered)."""


def routing_word(agency_id: str) -> str:
    """`school:3304000` -> `school.3304000` (AMQP routing keys and user names)."""
    return f"{kind_of(agency_id).value}.{code_of(agency_id)}"


def agency_of_word(word: str) -> str:
    """`school.3304000` -> `school:3304000` (the inverse of `routing_word`)."""
    kind, _, code = word.partition(".")
    return f"{kind}:{code}"


@dataclass(frozen=True)
class Topology:
    """Names and arguments of every exchange and queue of one hub."""

    prefix: str = "cme"
    delivery_limit: int = DELIVERY_LIMIT
    retry_delays_s: tuple[int, ...] = field(default=RETRY_DELAYS_S)

    @property
    def ingress(self) -> str:
        """Topic exchange agencies publish to."""
        return f"{self.prefix}.ingress"

    @property
    def deliver(self) -> str:
        """Direct exchange the router delivers through."""
        return f"{self.prefix}.deliver"

    @property
    def dlx(self) -> str:
        """Direct exchange for dead letters."""
        return f"{self.prefix}.dlx"

    @property
    def retry(self) -> str:
        """Topic exchange into the wait queues."""
        return f"{self.prefix}.retry"

    @property
    def requeue(self) -> str:
        """Topic exchange out of the wait queues, back to the original queue."""
        return f"{self.prefix}.requeue"

    @property
    def router_queue(self) -> str:
        """The queue router replicas compete on."""
        return f"{self.prefix}.router"

    @property
    def refused_queue(self) -> str:
        """Refused messages, kept with their reason (header `x-cme-reason`)."""
        return f"{self.prefix}.refused"

    def ingress_key(self, sender: str) -> str:
        """The routing key a sender publishes with (its topic permission allows only this)."""
        return f"in.{routing_word(sender)}"

    def agency_queue(self, agency_id: str) -> str:
        """An agency's inbox queue."""
        return f"{self.prefix}.q.{routing_word(agency_id)}"

    def dead_letter_queue(self, queue: str) -> str:
        """Where `queue`'s dead letters go."""
        return f"{queue}.dlq"

    @property
    def dead_letter_log(self) -> str:
        """A copy of every dead letter, for the router to record in the ledger (the original
        waits in its `.dlq` for an operator)."""
        return f"{self.prefix}.deadletters"

    def wait_queue(self, delay_s: int) -> str:
        """The wait queue for one back-off delay."""
        return f"{self.prefix}.wait.{delay_s}s"

    def retry_key(self, queue: str, attempt: int) -> str:
        """Routing key into the wait queue for this attempt, addressed back to `queue`."""
        delays = self.retry_delays_s
        return f"{delays[min(attempt, len(delays)) - 1]}s.{queue}"

    def queue_arguments(self, queue: str) -> dict[str, Any]:
        """Arguments of a work queue: quorum, at-least-once dead-lettering, delivery limit."""
        return {
            "x-queue-type": "quorum",
            "x-dead-letter-exchange": self.dlx,
            "x-dead-letter-routing-key": queue,
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
            "x-delivery-limit": self.delivery_limit,
        }

    def wait_queue_arguments(self, delay_s: int) -> dict[str, Any]:
        """A wait queue holds messages for `delay_s`, then dead-letters them back."""
        return {
            "x-queue-type": "quorum",
            "x-message-ttl": delay_s * 1000,
            "x-dead-letter-exchange": self.requeue,
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
        }

    @staticmethod
    def dead_letter_arguments() -> dict[str, Any]:
        """Dead-letter queues are quorum queues too (they must not lose what they hold)."""
        return {"x-queue-type": "quorum"}

    @staticmethod
    def dead_letter_log_arguments() -> dict[str, Any]:
        """A quorum queue with one active consumer at a time: two router replicas must not
        both record the same dead letter (its copy can come round twice)."""
        return {"x-queue-type": "quorum", "x-single-active-consumer": True}

    def work_queues(self, agencies: list[str]) -> list[str]:
        """Every queue that is consumed: the router's and each agency's."""
        return [self.router_queue, *(self.agency_queue(a) for a in agencies)]
