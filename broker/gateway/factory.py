"""Building the gateway from the composition root (`broker.app.Container`)."""

from datetime import timedelta
from typing import TYPE_CHECKING

from fastapi import FastAPI

from broker.client.agency import ClientSettings
from broker.directory.export import export_directory
from broker.envelope import HeaderVerifier, SqlReplayCache
from broker.errors import BrokerError
from broker.gateway.api import Gatekeeper
from broker.gateway.app import create_gateway_app, create_health_app
from broker.gateway.auth import (
    AssertionPolicy,
    AssertionVerifier,
    ProxyCertificateAuthenticator,
    load_issuers,
)
from broker.gateway.health import Probes, database_probe
from broker.gateway.ratelimit import AgencyRateLimiter
from broker.gateway.relay import AmqpRelay
from broker.gateway.service import GatewayParts, GatewayPolicy, GatewayService
from broker.gateway.store import GatewayStore
from broker.ledger import default_actor

if TYPE_CHECKING:  # the container builds the gateway itself: no import cycle at run time
    from broker.app import Container


class UntrustedGatewayUser(BrokerError):
    """The gateway's AMQP user is not among the router's trusted publishers."""

    reason = "gateway_user_not_trusted"


def gateway_app_for(container: "Container") -> FastAPI:
    """The gateway, publishing as the AMQP user of `CME_RABBITMQ_URL`. That user must be a
    trusted publisher (`CME_AMQP_TRUSTED_PUBLISHERS`), or the router would refuse everything
    it publishes: refuse to start instead of accepting messages that cannot go anywhere."""
    settings = container.settings
    relay = _relay(container)
    user = _amqp_user(container)
    if user not in settings.trusted_publishers:
        raise UntrustedGatewayUser(
            "the gateway's AMQP user must be listed in CME_AMQP_TRUSTED_PUBLISHERS"
        )
    replay_cache = SqlReplayCache(container.engine, container.clock)
    parts = GatewayParts(
        store=GatewayStore(container.engine, container.clock),
        relay=relay,
        ledger=container.ledger(actor=f"gateway:{default_actor(settings.hub_id)}"[:64]),
        verifier=lambda: HeaderVerifier(
            container.directory_cache.current(),
            config=container.envelope_config,
            clock=container.clock,
        ),
        signed_directory=lambda: _signed_directory(container),
        replay_cache=replay_cache,
        clock=container.clock,
        policy=GatewayPolicy(
            retention=timedelta(seconds=settings.max_message_lifetime_seconds),
            hub_timeout_s=settings.gateway_hub_timeout_s,
            mailboxes=settings.gateway_mailboxes,
        ),
    )
    return create_gateway_app(
        GatewayService(parts),
        _gatekeeper(container, replay_cache),
        Probes(database=database_probe(container.engine), rabbitmq=relay.ping),
        settings.max_envelope_bytes,
    )


def health_app_for(container: "Container") -> FastAPI:
    """Health and metrics only (a router replica): ready when RabbitMQ and the database are."""
    probes = Probes(
        database=database_probe(container.engine),
        rabbitmq=_relay(container).ping,
        required=frozenset({"database", "rabbitmq"}),
    )
    return create_health_app(probes)


def _gatekeeper(container: "Container", replay_cache: SqlReplayCache) -> Gatekeeper:
    settings = container.settings
    directory = container.directory_cache.current
    certificates = None
    if settings.gateway_trust_proxy_cert and settings.gateway_client_ca is not None:
        issuers = load_issuers(settings.gateway_client_ca.read_bytes())
        certificates = ProxyCertificateAuthenticator(directory, issuers, container.clock)
    return Gatekeeper(
        assertions=AssertionVerifier(
            directory,
            replay_cache,
            AssertionPolicy(audience=settings.resolved_gateway_audience),
            container.clock,
        ),
        certificates=certificates,
        limiter=AgencyRateLimiter(settings.gateway_rate_limit),
    )


def _amqp_user(container: "Container") -> str | None:
    return ClientSettings(amqp_url=container.settings.rabbitmq_url.get_secret_value()).user_id


def _relay(container: "Container") -> AmqpRelay:
    settings = container.settings
    return AmqpRelay(
        settings.rabbitmq_url.get_secret_value(),
        _amqp_user(container),
        container.topology,
        settings.gateway_hub_timeout_s,
    )


def _signed_directory(container: "Container") -> str:
    return export_directory(
        container.snapshot(),
        container.settings.hub_id,
        container.hub_signing_key(),
        container.clock(),
        serial=container.directory_store.revision(),
    )
