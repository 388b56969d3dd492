"""Export the topology as RabbitMQ definitions (`rabbitmqctl import_definitions FILE`).

One user per agency, named like its routing word (`school.3304000`), may only publish to the
ingress exchange with its own routing key (topic permission) and consume its own queue. Users
carry no password hash: production authenticates agencies by client certificate (EXTERNAL);
a development broker can set passwords with `rabbitmqctl change_password`.

Two users serve the hub itself. `cme-router` (ROUTER_USER) declares the topology and moves
messages between the hub's queues. `cme-gateway` (GATEWAY_USER) is the HTTPS gateway: it
authenticates agencies that cannot speak AMQP (client certificate, per agency) and relays for
them, so it may publish to the ingress with any sender's routing key and read every agency's
inbox, and configure nothing. The router trusts it to publish on behalf of others only when it
is listed in `CME_AMQP_TRUSTED_PUBLISHERS`; even then the envelope's signature, not the AMQP
user, proves the sender, and the gateway holds no key that opens a payload, so a compromised
gateway can delay or drop messages but can neither read nor forge them.
"""

import re
from typing import Any

from broker.transport.topology import Topology, routing_word

ROUTER_USER = "cme-router"
GATEWAY_USER = "cme-gateway"


def _exact(name: str) -> str:
    return f"^{re.escape(name)}$"


def agency_permissions(topology: Topology, agency: str, vhost: str) -> dict[str, Any]:
    """configure nothing; write only the ingress exchange; read its own queue.

    Never write access to an exchange whose bindings reach other agencies' queues (the retry
    exchange): RabbitMQ 3.10 does not apply topic permissions to CC/BCC headers.
    """
    return {
        "user": routing_word(agency),
        "vhost": vhost,
        "configure": "^$",
        "write": _exact(topology.ingress),
        "read": _exact(topology.agency_queue(agency)),
    }


def agency_topic_permissions(topology: Topology, agency: str, vhost: str) -> list[dict[str, Any]]:
    """Only its own ingress routing key."""
    return [
        {
            "user": routing_word(agency),
            "vhost": vhost,
            "exchange": topology.ingress,
            "write": _exact(topology.ingress_key(agency)),
            "read": "^$",
        }
    ]


def gateway_permissions(topology: Topology, vhost: str) -> dict[str, Any]:
    """configure nothing; write only the ingress exchange; read every agency's inbox
    (`cme.q.<kind>.<code>`), but no dead-letter, dead-letter log, router, wait or refused
    queue."""
    return {
        "user": GATEWAY_USER,
        "vhost": vhost,
        "configure": "^$",
        "write": _exact(topology.ingress),
        "read": f"^{re.escape(topology.prefix)}\\.q\\.[^.]+\\.[^.]+$",
    }


def gateway_topic_permissions(topology: Topology, vhost: str) -> list[dict[str, Any]]:
    """Any sender's ingress key (`in.<kind>.<code>`, one word each), nothing else."""
    return [
        {
            "user": GATEWAY_USER,
            "vhost": vhost,
            "exchange": topology.ingress,
            "write": "^in\\.[^.]+\\.[^.]+$",
            "read": "^$",
        }
    ]


def _queue(name: str, vhost: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "vhost": vhost,
        "durable": True,
        "auto_delete": False,
        "arguments": arguments,
    }


def _binding(source: str, destination: str, key: str, vhost: str) -> dict[str, Any]:
    return {
        "source": source,
        "vhost": vhost,
        "destination": destination,
        "destination_type": "queue",
        "routing_key": key,
        "arguments": {},
    }


def definitions(topology: Topology, agencies: list[str], vhost: str = "/") -> dict[str, Any]:
    """The full definitions document for one hub."""
    exchanges = [
        (topology.ingress, "topic"),
        (topology.deliver, "direct"),
        (topology.dlx, "direct"),
        (topology.retry, "topic"),
        (topology.requeue, "topic"),
    ]
    queues = [
        _queue(topology.refused_queue, vhost, topology.dead_letter_arguments()),
        _queue(topology.dead_letter_log, vhost, topology.dead_letter_log_arguments()),
    ]
    bindings = []
    for delay in topology.retry_delays_s:
        wait = topology.wait_queue(delay)
        queues.append(_queue(wait, vhost, topology.wait_queue_arguments(delay)))
        bindings.append(_binding(topology.retry, wait, f"{delay}s.#", vhost))
    for name in topology.work_queues(agencies):
        dead = topology.dead_letter_queue(name)
        queues += [
            _queue(name, vhost, topology.queue_arguments(name)),
            _queue(dead, vhost, topology.dead_letter_arguments()),
        ]
        bindings += [
            _binding(topology.requeue, name, f"*.{name}", vhost),
            _binding(topology.dlx, dead, name, vhost),
            _binding(topology.dlx, topology.dead_letter_log, name, vhost),
        ]
    bindings.append(_binding(topology.ingress, topology.router_queue, "in.#", vhost))
    bindings += [
        _binding(topology.deliver, topology.agency_queue(a), routing_word(a), vhost)
        for a in agencies
    ]
    users = [ROUTER_USER, GATEWAY_USER, *(routing_word(a) for a in agencies)]
    return {
        "rabbitmq_version": "3.10",
        "vhosts": [{"name": vhost}],
        "users": [
            {
                "name": u,
                "password_hash": "",
                "hashing_algorithm": "rabbit_password_hashing_sha256",
                "tags": [],
            }
            for u in users
        ],
        "permissions": [
            {
                "user": ROUTER_USER,
                "vhost": vhost,
                "configure": _prefixed(topology),
                # amq.default: refused messages go to the refused queue by name.
                "write": f"^({re.escape(topology.prefix)}\\..*|amq\\.default)$",
                "read": _prefixed(topology),
            },
            gateway_permissions(topology, vhost),
            *(agency_permissions(topology, a, vhost) for a in agencies),
        ],
        "topic_permissions": [
            *gateway_topic_permissions(topology, vhost),
            *(t for a in agencies for t in agency_topic_permissions(topology, a, vhost)),
        ],
        "exchanges": [
            {
                "name": n,
                "vhost": vhost,
                "type": t,
                "durable": True,
                "auto_delete": False,
                "internal": False,
                "arguments": {},
            }
            for n, t in exchanges
        ],
        "queues": queues,
        "bindings": bindings,
        "policies": [],
        "parameters": [],
        "global_parameters": [],
    }


def _prefixed(topology: Topology) -> str:
    return f"^{re.escape(topology.prefix)}\\."
