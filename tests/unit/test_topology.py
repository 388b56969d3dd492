"""The hub's RabbitMQ topology and its exported definitions, without a broker.

Routing is checked by simulating RabbitMQ on the definitions document (direct and topic
matching, dead-lettering with the queue's arguments) and permissions with RabbitMQ's own
semantics (a permission regex is searched for in the resource name, so it must be anchored).
"""

import json
import re
from typing import Any

import pytest

from broker.transport.declare import declare_topology
from broker.transport.definitions import (
    GATEWAY_USER,
    ROUTER_USER,
    agency_permissions,
    agency_topic_permissions,
    definitions,
    gateway_permissions,
    gateway_topic_permissions,
)
from broker.transport.topology import (
    DELIVERY_LIMIT,
    RETRY_DELAYS_S,
    Topology,
    agency_of_word,
    routing_word,
)

SCHOOL, LA, HEALTH, HOUSING, SOCIAL_CARE = (
    "school:3304000",
    "la:330",
    "health:M85001",
    "housing:330-ta",
    "social_care:330",
)
AGENCIES = [SCHOOL, LA, HEALTH, HOUSING, SOCIAL_CARE]
VHOST = "cme-test"
T = Topology()


# -- a small model of RabbitMQ ----------------------------------------------------------------


def topic_matches(pattern: str, key: str) -> bool:
    """AMQP topic matching: words split on '.', `*` is one word, `#` zero or more."""

    def match(p: list[str], k: list[str]) -> bool:
        if not p:
            return not k
        if p[0] == "#":
            return match(p[1:], k) or (bool(k) and match(p, k[1:]))
        return bool(k) and p[0] in ("*", k[0]) and match(p[1:], k[1:])

    return match(pattern.split("."), key.split("."))


def route(document: dict[str, Any], exchange: str, key: str) -> set[str]:
    """The queues a message published to `exchange` with `key` lands in."""
    kind = {e["name"]: e["type"] for e in document["exchanges"]}[exchange]
    return {
        b["destination"]
        for b in document["bindings"]
        if b["source"] == exchange
        and (topic_matches(b["routing_key"], key) if kind == "topic" else b["routing_key"] == key)
    }


def dead_letter(document: dict[str, Any], queue: str, key: str) -> set[str]:
    """Where a message published with `key` goes when `queue` dead-letters it (rejected,
    over its delivery limit, or expired): the queue's DLX, with its dead-letter routing key if
    it has one, else the message's own key."""
    arguments = queues_of(document)[queue]["arguments"]
    return route(
        document,
        arguments["x-dead-letter-exchange"],
        arguments.get("x-dead-letter-routing-key", key),
    )


def permits(regex: str, name: str) -> bool:
    """RabbitMQ's check: the regex is *searched* for in the resource name."""
    return re.search(regex, name) is not None


def queues_of(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {q["name"]: q for q in document["queues"]}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return definitions(T, AGENCIES, VHOST)


# -- names --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("agency", "word"),
    [
        (SCHOOL, "school.3304000"),
        (LA, "la.330"),
        (HEALTH, "health.M85001"),
        (HOUSING, "housing.330-ta"),
        (SOCIAL_CARE, "social_care.330"),
        ("police:01", "police.01"),
        ("early_years:EY123456", "early_years.EY123456"),
        ("hub:330", "hub.330"),
    ],
)
def test_routing_word_is_kind_dot_code_and_inverts(agency: str, word: str) -> None:
    assert routing_word(agency) == word
    assert agency_of_word(word) == agency
    assert word.count(".") == 1  # one AMQP word per part: `*` and `#` bindings stay exact


def test_names_per_agency() -> None:
    assert (T.ingress, T.deliver, T.dlx, T.retry, T.requeue) == (
        "cme.ingress",
        "cme.deliver",
        "cme.dlx",
        "cme.retry",
        "cme.requeue",
    )
    assert (T.router_queue, T.refused_queue) == ("cme.router", "cme.refused")
    assert T.dead_letter_log == "cme.deadletters"
    assert T.agency_queue(SCHOOL) == "cme.q.school.3304000"
    assert T.agency_queue(HOUSING) == "cme.q.housing.330-ta"
    assert T.ingress_key(SCHOOL) == "in.school.3304000"
    assert T.dead_letter_queue(T.agency_queue(LA)) == "cme.q.la.330.dlq"
    assert T.wait_queue(30) == "cme.wait.30s"
    assert T.work_queues([SCHOOL, LA]) == ["cme.router", "cme.q.school.3304000", "cme.q.la.330"]


def test_every_name_carries_the_prefix() -> None:
    """Two hubs (or test runs) on one RabbitMQ never share a name."""
    other = Topology(prefix="t1")
    names = [
        other.ingress,
        other.deliver,
        other.dlx,
        other.retry,
        other.requeue,
        other.router_queue,
        other.refused_queue,
        other.dead_letter_log,
        other.agency_queue(SCHOOL),
        other.wait_queue(1),
    ]
    assert all(n.startswith("t1.") for n in names)
    assert not set(names) & {
        T.ingress,
        T.deliver,
        T.router_queue,
        T.agency_queue(SCHOOL),
        T.wait_queue(1),
    }


def test_names_are_unique_across_agencies(document: dict[str, Any]) -> None:
    names = [q["name"] for q in document["queues"]]
    assert len(names) == len(set(names))
    assert len({T.agency_queue(a) for a in AGENCIES}) == len(AGENCIES)
    assert len({T.ingress_key(a) for a in AGENCIES}) == len(AGENCIES)


# -- retries ------------------------------------------------------------------------------------


def test_retry_keys_follow_the_back_off_then_clamp() -> None:
    queue = T.agency_queue(LA)
    assert RETRY_DELAYS_S == (1, 5, 30, 120, 600)
    keys = [T.retry_key(queue, attempt) for attempt in range(1, 8)]
    assert keys == [
        "1s.cme.q.la.330",
        "5s.cme.q.la.330",
        "30s.cme.q.la.330",
        "120s.cme.q.la.330",
        "600s.cme.q.la.330",
        "600s.cme.q.la.330",  # past the last delay: the longest (the caller dead-letters)
        "600s.cme.q.la.330",
    ]
    assert T.retry_key(queue, 1000).startswith("600s.")


def test_retry_keys_with_custom_delays() -> None:
    topology = Topology(prefix="t", retry_delays_s=(2, 9))
    assert [topology.retry_key("t.router", n) for n in (1, 2, 3)] == [
        "2s.t.router",
        "9s.t.router",
        "9s.t.router",
    ]


def test_a_retry_goes_to_the_wait_queue_of_its_delay_then_back_to_its_own_queue(
    document: dict[str, Any],
) -> None:
    for queue in T.work_queues(AGENCIES):
        for attempt, delay in enumerate(T.retry_delays_s, start=1):
            key = T.retry_key(queue, attempt)
            assert route(document, T.retry, key) == {T.wait_queue(delay)}
            assert dead_letter(document, T.wait_queue(delay), key) == {queue}


# -- queue arguments ----------------------------------------------------------------------------


def test_work_queue_arguments() -> None:
    """Quorum; at-least-once dead-lettering, which needs reject-publish (the default,
    at-most-once, silently drops dead letters); a delivery limit for poison messages; dead
    letters keyed by the queue's own name."""
    queue = T.agency_queue(LA)
    assert T.queue_arguments(queue) == {
        "x-queue-type": "quorum",
        "x-dead-letter-exchange": "cme.dlx",
        "x-dead-letter-routing-key": "cme.q.la.330",
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
        "x-delivery-limit": DELIVERY_LIMIT,
    }
    assert Topology(delivery_limit=3).queue_arguments(queue)["x-delivery-limit"] == 3


def test_wait_queue_arguments() -> None:
    """A wait queue holds a message for its delay, then dead-letters it (at least once) to
    the requeue exchange with the message's own routing key: no fixed dead-letter key."""
    assert T.wait_queue_arguments(30) == {
        "x-queue-type": "quorum",
        "x-message-ttl": 30_000,
        "x-dead-letter-exchange": "cme.requeue",
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
    }


def test_dead_letter_queues_are_quorum_queues() -> None:
    assert T.dead_letter_arguments() == {"x-queue-type": "quorum"}


# -- the definitions document -------------------------------------------------------------------


def test_every_queue_is_a_durable_quorum_queue_in_the_vhost(document: dict[str, Any]) -> None:
    queues = queues_of(document)
    expected = {T.refused_queue, T.dead_letter_log, *(T.wait_queue(d) for d in T.retry_delays_s)}
    for name in T.work_queues(AGENCIES):
        expected |= {name, T.dead_letter_queue(name)}
    assert set(queues) == expected
    for name, queue in queues.items():
        assert queue["durable"], name
        assert not queue["auto_delete"], name
        assert queue["arguments"]["x-queue-type"] == "quorum", name
        assert queue["vhost"] == VHOST
    for name in T.work_queues(AGENCIES):
        assert queues[name]["arguments"] == T.queue_arguments(name)
    for delay in T.retry_delays_s:
        assert queues[T.wait_queue(delay)]["arguments"] == T.wait_queue_arguments(delay)


def test_exchanges(document: dict[str, Any]) -> None:
    assert {(e["name"], e["type"]) for e in document["exchanges"]} == {
        (T.ingress, "topic"),
        (T.deliver, "direct"),
        (T.dlx, "direct"),
        (T.retry, "topic"),
        (T.requeue, "topic"),
    }
    assert all(e["durable"] and e["vhost"] == VHOST for e in document["exchanges"])


def test_every_binding_joins_declared_names(document: dict[str, Any]) -> None:
    exchanges = {e["name"] for e in document["exchanges"]}
    queues = set(queues_of(document))
    for binding in document["bindings"]:
        assert binding["source"] in exchanges
        assert binding["destination"] in queues
        assert binding["destination_type"] == "queue"
        assert binding["vhost"] == VHOST


def test_every_work_queue_dead_letters_into_its_own_dlq_and_a_copy_into_the_log(
    document: dict[str, Any],
) -> None:
    """The original waits in its `.dlq` for an operator; the copy is for the router, which
    records the dead letter in the ledger (so `track` shows it)."""
    for queue in T.work_queues(AGENCIES):
        for destination in (T.dead_letter_queue(queue), T.dead_letter_log):
            binding = {
                "source": T.dlx,
                "vhost": VHOST,
                "destination": destination,
                "destination_type": "queue",
                "routing_key": queue,
                "arguments": {},
            }
            assert binding in document["bindings"]
        expected = {T.dead_letter_queue(queue), T.dead_letter_log}
        assert dead_letter(document, queue, "any.key") == expected


def test_only_dead_letters_reach_the_dead_letter_log(document: dict[str, Any]) -> None:
    sources = {b["source"] for b in document["bindings"] if b["destination"] == T.dead_letter_log}
    assert sources == {T.dlx}


def test_the_dead_letter_log_has_one_active_consumer(document: dict[str, Any]) -> None:
    """Router replicas take turns on it: two cannot record the same dead letter at once."""
    arguments = queues_of(document)[T.dead_letter_log]["arguments"]
    assert arguments == {"x-queue-type": "quorum", "x-single-active-consumer": True}


def test_the_router_alone_is_bound_to_ingress(document: dict[str, Any]) -> None:
    on_ingress = [b for b in document["bindings"] if b["source"] == T.ingress]
    assert [(b["destination"], b["routing_key"]) for b in on_ingress] == [(T.router_queue, "in.#")]
    for agency in AGENCIES:
        assert route(document, T.ingress, T.ingress_key(agency)) == {T.router_queue}


def test_each_agency_is_bound_on_deliver_by_its_routing_word(document: dict[str, Any]) -> None:
    on_deliver = {
        (b["destination"], b["routing_key"])
        for b in document["bindings"]
        if b["source"] == T.deliver
    }
    assert on_deliver == {(T.agency_queue(a), routing_word(a)) for a in AGENCIES}
    for agency in AGENCIES:
        assert route(document, T.deliver, routing_word(agency)) == {T.agency_queue(agency)}


def test_the_refused_queue_is_not_bound_anywhere(document: dict[str, Any]) -> None:
    """Refused originals reach it only by name (the router publishes them directly)."""
    assert T.refused_queue not in {b["destination"] for b in document["bindings"]}


async def test_declared_topology_is_the_exported_one(document: dict[str, Any]) -> None:
    """`declare_topology` (code, at start-up) and `definitions` (export, for deploy/) agree on
    every exchange, queue argument and binding: importing then declaring cannot clash."""
    channel = RecordingChannel()
    await declare_topology(channel, T, AGENCIES)  # type: ignore[arg-type]
    assert channel.exchanges == {e["name"]: e["type"] for e in document["exchanges"]}
    assert channel.queues == {q["name"]: q["arguments"] for q in document["queues"]}
    assert channel.bindings == {
        (b["source"], b["destination"], b["routing_key"]) for b in document["bindings"]
    }


class _Named:
    def __init__(self, channel: "RecordingChannel", name: str) -> None:
        self.channel, self.name = channel, name

    async def bind(self, exchange: "_Named | str", routing_key: str) -> None:
        source = exchange if isinstance(exchange, str) else exchange.name
        self.channel.bindings.add((source, self.name, routing_key))


class RecordingChannel:
    """Just enough of an aio-pika channel to record what `declare_topology` declares."""

    def __init__(self) -> None:
        self.exchanges: dict[str, str] = {}
        self.queues: dict[str, dict[str, Any]] = {}
        self.bindings: set[tuple[str, str, str]] = set()

    async def declare_exchange(self, name: str, kind: Any, *, durable: bool) -> _Named:
        assert durable
        self.exchanges[name] = kind.value
        return _Named(self, name)

    async def declare_queue(self, name: str, *, durable: bool, arguments: dict[str, Any]) -> _Named:
        assert durable
        self.queues[name] = arguments
        return _Named(self, name)

    async def get_queue(self, name: str, *, ensure: bool = True) -> _Named:
        assert name in self.queues
        return _Named(self, name)


# -- users and permissions ----------------------------------------------------------------------


def test_one_user_per_agency_plus_the_router_and_gateway_and_no_password_hashes(
    document: dict[str, Any],
) -> None:
    users = document["users"]
    assert [u["name"] for u in users] == [
        ROUTER_USER,
        GATEWAY_USER,
        *(routing_word(a) for a in AGENCIES),
    ]
    assert all(u["password_hash"] == "" and u["tags"] == [] for u in users)
    assert all(set(u) == {"name", "password_hash", "hashing_algorithm", "tags"} for u in users)
    assert 'password"' not in json.dumps(document)  # no clear-text password field anywhere
    assert {p["user"] for p in document["permissions"]} == {u["name"] for u in users}
    assert document["vhosts"] == [{"name": VHOST}]


def test_every_permission_regex_is_anchored(document: dict[str, Any]) -> None:
    """RabbitMQ searches: an unanchored regex would also permit any name containing it."""
    regexes = [p[k] for p in document["permissions"] for k in ("configure", "write", "read")] + [
        t[k] for t in document["topic_permissions"] for k in ("write", "read")
    ]
    for regex in regexes:
        assert regex.startswith("^"), regex
        assert regex.endswith("$") or regex.endswith("\\."), regex


def _all_names(document: dict[str, Any]) -> list[str]:
    return [
        *(e["name"] for e in document["exchanges"]),
        *(q["name"] for q in document["queues"]),
        "amq.default",
        "amq.topic",
    ]


@pytest.mark.parametrize("agency", AGENCIES)
def test_agency_permissions(document: dict[str, Any], agency: str) -> None:
    """Configure nothing; write only the ingress exchange; read only its own queue."""
    permission = agency_permissions(T, agency, VHOST)
    assert permission in document["permissions"]
    assert permission["user"] == routing_word(agency)
    own = T.agency_queue(agency)
    for name in [*_all_names(document), f"{own}.mine", f"x{own}", f"{own}x", "cme.q.new"]:
        assert not permits(permission["configure"], name), name
        assert permits(permission["write"], name) == (name == T.ingress), name
        assert permits(permission["read"], name) == (name == own), name


@pytest.mark.parametrize("agency", AGENCIES)
def test_agency_topic_permissions(document: dict[str, Any], agency: str) -> None:
    """On the ingress, only its own key; no topic reads; no other exchange at all (RabbitMQ
    3.10 does not check topic permissions on CC headers, so an agency must not write to the
    shared retry exchange)."""
    (ingress,) = agency_topic_permissions(T, agency, VHOST)
    assert ingress in document["topic_permissions"]
    assert ingress["exchange"] == T.ingress
    assert ingress["read"] == "^$"
    assert ingress["user"] == routing_word(agency)
    own_key = T.ingress_key(agency)
    ingress_keys = [T.ingress_key(a) for a in AGENCIES]
    ingress_keys += [f"{own_key}.x", f"x{own_key}", "in.#", "in.*.*", "in", own_key[:-1]]
    for key in ingress_keys:
        assert permits(ingress["write"], key) == (key == own_key), key


def test_ingress_reaches_only_the_router_and_retries_come_back_to_their_queue(
    document: dict[str, Any],
) -> None:
    """Every agency's ingress key routes to the router queue only; a retry key goes through
    a wait queue back to the queue it names, and nowhere else."""
    for agency in AGENCIES:
        assert route(document, T.ingress, T.ingress_key(agency)) == {T.router_queue}
        own = T.agency_queue(agency)
        for attempt in range(1, len(T.retry_delays_s) + 1):
            key = T.retry_key(own, attempt)
            (wait,) = route(document, T.retry, key)
            assert dead_letter(document, wait, key) == {own}


def test_router_permissions_cover_the_hub_and_nothing_else(document: dict[str, Any]) -> None:
    (router,) = [p for p in document["permissions"] if p["user"] == ROUTER_USER]
    hub_names = [*(e["name"] for e in document["exchanges"]), *queues_of(document)]
    for kind in ("configure", "write", "read"):
        assert all(permits(router[kind], n) for n in hub_names), kind
        for other in ("cme2.ingress", "cme-x.router", "xcme.router", "amq.topic"):
            assert not permits(router[kind], other), (kind, other)


def test_router_may_write_every_exchange_it_publishes_to(document: dict[str, Any]) -> None:
    """RouterService publishes to the deliver exchange (routes, refusal receipts), the retry
    exchange (retries) and the default exchange (refused originals to the refused queue)."""
    (router,) = [p for p in document["permissions"] if p["user"] == ROUTER_USER]
    for exchange in (T.deliver, T.retry, "amq.default"):
        assert permits(router["write"], exchange), exchange


def test_permissions_follow_the_vhost_and_prefix() -> None:
    other = Topology(prefix="t9")
    document = definitions(other, [SCHOOL], "/")
    assert {p["vhost"] for p in document["permissions"]} == {"/"}
    assert {t["vhost"] for t in document["topic_permissions"]} == {"/"}
    school = agency_permissions(other, SCHOOL, "/")
    assert permits(school["read"], "t9.q.school.3304000")
    assert not permits(school["read"], "cme.q.school.3304000")
    assert permits(school["write"], "t9.ingress")
    assert not permits(school["write"], "cme.ingress")


def test_gateway_permissions(document: dict[str, Any]) -> None:
    """The HTTPS gateway relays for agencies: configure nothing; write only the ingress; read
    every agency's inbox and nothing else (no dead letters, router, wait or refused queue)."""
    permission = gateway_permissions(T, VHOST)
    assert permission in document["permissions"]
    assert permission["user"] == GATEWAY_USER
    inboxes = {T.agency_queue(a) for a in AGENCIES}
    names = [*_all_names(document), "cme.q.new.agency", "cme.q.x", "xcme.q.la.330", "t9.q.la.330"]
    for name in names:
        assert not permits(permission["configure"], name), name
        assert permits(permission["write"], name) == (name == T.ingress), name
        assert permits(permission["read"], name) == (
            name in inboxes or name == "cme.q.new.agency"
        ), name


def test_gateway_topic_permissions_allow_any_sender_on_the_ingress_only(
    document: dict[str, Any],
) -> None:
    (ingress,) = gateway_topic_permissions(T, VHOST)
    assert ingress in document["topic_permissions"]
    assert (ingress["user"], ingress["exchange"], ingress["read"]) == (
        GATEWAY_USER,
        T.ingress,
        "^$",
    )
    for agency in [*AGENCIES, "police:01", "early_years:EY123456"]:
        assert permits(ingress["write"], T.ingress_key(agency)), agency
    for key in ["in", "in.la", "in.la.330.x", "xin.la.330", "out.la.330", "in.#", "1s.cme.router"]:
        assert not permits(ingress["write"], key), key


def test_gateway_permissions_follow_the_prefix() -> None:
    other = Topology(prefix="t9")
    permission = gateway_permissions(other, "/")
    assert permits(permission["read"], "t9.q.school.3304000")
    assert not permits(permission["read"], "cme.q.school.3304000")
    assert not permits(permission["read"], "t9.q.school.3304000.dlq")
    assert permits(permission["write"], "t9.ingress")
    assert not permits(permission["write"], "cme.ingress")
