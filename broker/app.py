"""The composition root: builds the broker's parts from `Settings`. Nothing else wires."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from typing import TypeVar

import aio_pika
from fastapi import FastAPI
from joserfc.jwk import OKPKey
from sqlalchemy import Engine

from broker.agreements import AgreementBook, load_agreements
from broker.client.agency import AgencyClient, ClientSettings, Handler
from broker.clock import Clock, utc_now
from broker.db import make_engine, migrate
from broker.directory.cache import RevisionCachedDirectory
from broker.directory.keystore import FileKeystore
from broker.directory.model import DirectorySnapshot, KeyDirectory, KeyUse
from broker.directory.store import KeyPolicy, SqlDirectoryStore
from broker.envelope import (
    EnvelopeConfig,
    HeaderVerifier,
    Opener,
    Pseudonymiser,
    RecipientIdentity,
    Sealer,
    SenderIdentity,
    SqlReplayCache,
)
from broker.gateway.factory import gateway_app_for, health_app_for
from broker.ledger import SqlLedger, default_actor, ledger_for
from broker.metrics_sampler import HubSampler, SamplerConfig
from broker.router.core import RouterCore, RouterPolicy
from broker.router.service import RouterService, RouterSettings
from broker.settings import Settings
from broker.transport.declare import declare_topology, delete_topology
from broker.transport.topology import Topology
from schemas.registry import default_registry

T = TypeVar("T")


def _per_snapshot(
    cache: RevisionCachedDirectory, build: Callable[[DirectorySnapshot], T]
) -> Callable[[], T]:
    """A factory that rebuilds its product only when the directory changes (keys are loaded
    and parsed once per directory revision, not once per message)."""
    memo: list[tuple[DirectorySnapshot, T]] = []

    def current() -> T:
        snapshot = cache.current()
        if not memo or memo[0][0] is not snapshot:
            memo[:] = [(snapshot, build(snapshot))]
        return memo[0][1]

    return current


@dataclass
class Container:
    """Everything a command needs, built lazily from settings."""

    settings: Settings
    clock: Clock = utc_now

    @cached_property
    def engine(self) -> Engine:
        """The database, migrated to the newest schema."""
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(self.settings.resolved_database_url)
        migrate(engine)
        return engine

    @cached_property
    def keystore(self) -> FileKeystore:
        """This machine's private keys."""
        return FileKeystore(self.settings.resolved_keystore_dir)

    @cached_property
    def directory_store(self) -> SqlDirectoryStore:
        """The directory's system of record."""
        config = self.envelope_config
        policy = KeyPolicy(rotation_overlap=config.max_lifetime + config.clock_skew)
        return SqlDirectoryStore(self.engine, self.keystore, policy, clock=self.clock)

    @cached_property
    def envelope_config(self) -> EnvelopeConfig:
        """Limits from settings."""
        return EnvelopeConfig(
            max_bytes=self.settings.max_envelope_bytes,
            clock_skew=timedelta(seconds=self.settings.clock_skew_seconds),
            max_lifetime=timedelta(seconds=self.settings.max_message_lifetime_seconds),
        )

    @cached_property
    def pseudonymiser(self) -> Pseudonymiser:
        """Subject references under the LA's pseudonym key."""
        return Pseudonymiser(self.settings.pseudonym_key.get_secret_value().encode())

    def snapshot(self) -> DirectorySnapshot:
        """A fresh view of the directory (revocations take effect at once)."""
        return self.directory_store.snapshot()

    def hub_signing_key(self) -> OKPKey:
        """The hub's own signing key (the hub is registered as an agency on first use)."""
        hub_id = self.settings.hub_id
        snapshot = self.snapshot()
        if hub_id not in {a.id for a in snapshot.agencies()}:
            self.directory_store.add_agency(hub_id, "LA hub")
            snapshot = self.snapshot()
        kid = snapshot.current_key(hub_id, KeyUse.SIG, self.clock()).kid
        return self.keystore.load(hub_id, kid)

    @cached_property
    def topology(self) -> Topology:
        """This hub's RabbitMQ names."""
        return Topology(prefix=self.settings.topology_prefix)

    @cached_property
    def agreements(self) -> AgreementBook:
        """The data sharing agreements the router enforces."""
        return load_agreements(self.settings.resolved_agreements_dir)

    @cached_property
    def directory_cache(self) -> RevisionCachedDirectory:
        """The directory as of now, reloaded after every change."""
        return RevisionCachedDirectory(self.directory_store)

    def ledger(self, *, signing: bool = True, actor: str | None = None) -> SqlLedger:
        """The justification ledger (signing checkpoints with the hub key unless told not to);
        `actor` names the process that appends (a router replica)."""
        return ledger_for(self, signing=signing, actor=actor)

    def router_core(self, ledger: SqlLedger) -> RouterCore:
        """The router's decision logic."""
        policy = RouterPolicy(trusted_publishers=self.settings.trusted_publishers)
        return RouterCore(
            self.directory_cache,
            self.agreements,
            ledger,
            registry=default_registry(),
            config=self.envelope_config,
            policy=policy,
            clock=self.clock,
        )

    def router_service(self, actor: str | None = None) -> RouterService:
        """One router replica."""
        actor = actor or default_actor(self.settings.hub_id)
        ledger = self.ledger(actor=actor)
        settings = RouterSettings(
            amqp_url=self.settings.rabbitmq_url.get_secret_value(), actor=actor
        )
        return RouterService(
            self.router_core(ledger),
            ledger,
            lambda: self.sealer(self.settings.hub_id, self.directory_cache.current()),
            self.topology,
            settings,
        )

    def gateway_app(self) -> FastAPI:
        """The HTTPS gateway (FastAPI app) with health and metrics."""
        return gateway_app_for(self)

    def health_app(self) -> FastAPI:
        """Health and metrics for a process that runs a router replica only."""
        return health_app_for(self)

    def agency_client(self, agency_id: str, handler: Handler) -> AgencyClient:
        """The AMQP client of an agency whose private keys are in this keystore."""
        settings = ClientSettings(amqp_url=self.settings.rabbitmq_url.get_secret_value())
        return AgencyClient(
            agency_id,
            self.engine,
            _per_snapshot(self.directory_cache, lambda d: self.sealer(agency_id, d)),
            _per_snapshot(self.directory_cache, lambda d: self._endpoint_opener(agency_id, d)),
            handler,
            self.topology,
            settings,
            clock=self.clock,
        )

    def _endpoint_opener(self, agency_id: str, directory: KeyDirectory) -> Opener:
        """An endpoint's opener: its inbox (not a replay cache) makes delivery idempotent."""
        verifier = HeaderVerifier(directory, config=self.envelope_config, clock=self.clock)
        return Opener(RecipientIdentity(agency_id, self.keystore.load_all(agency_id)), verifier)

    async def declare_topology(self, agencies: list[str] | None = None) -> None:
        """Declare the hub's exchanges and queues (idempotent), for every agency by default."""
        names = agencies if agencies is not None else [a.id for a in self.snapshot().agencies()]
        connection = await aio_pika.connect_robust(
            self.settings.rabbitmq_url.get_secret_value(), timeout=15
        )
        async with connection:
            await declare_topology(await connection.channel(), self.topology, names)

    async def delete_topology(self) -> None:
        """Delete the hub's exchanges and queues (with anything still in them)."""
        names = [a.id for a in self.snapshot().agencies()]
        connection = await aio_pika.connect(self.settings.rabbitmq_url.get_secret_value())
        async with connection:
            await delete_topology(await connection.channel(), self.topology, names)

    def sealer(self, agency_id: str, directory: KeyDirectory | None = None) -> Sealer:
        """A sealer for an agency whose private keys are in this keystore."""
        directory = directory or self.snapshot()
        kid = directory.current_key(agency_id, KeyUse.SIG, self.clock()).kid
        identity = SenderIdentity(agency_id, self.keystore.load(agency_id, kid))
        return Sealer(
            identity, directory, self.pseudonymiser, config=self.envelope_config, clock=self.clock
        )

    def opener(self, agency_id: str, directory: KeyDirectory | None = None) -> Opener:
        """An opener for an agency, with the database replay cache."""
        verifier = HeaderVerifier(
            directory or self.snapshot(), config=self.envelope_config, clock=self.clock
        )
        identity = RecipientIdentity(agency_id, self.keystore.load_all(agency_id))
        return Opener(identity, verifier, SqlReplayCache(self.engine, self.clock))

    def hub_sampler(self) -> HubSampler:
        """The sampler of the hub's gauges: queue depths and dead letters of every agency in
        the directory, and overdue locate enquiries from the ledger."""
        config = SamplerConfig(self.settings.rabbitmq_url.get_secret_value(), self.topology)

        def agencies() -> list[str]:
            return [a.id for a in self.directory_cache.current().agencies()]

        return HubSampler(config, agencies, self.engine, self.clock)
